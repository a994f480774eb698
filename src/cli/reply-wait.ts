import type { RunRecord } from '../store/runs.js';
import type { ChatMessage } from './api-client.js';

export interface ReplyWaitOptions {
  /** The seq `POST /api/messages` returned for the message we sent. */
  postedSeq: number;
  /** The group bound to the chat, when known: run events of other groups are ignored. */
  group?: string;
  /** After the first reply, finish when nothing new arrived for this long (default 2000 ms). */
  quietMs?: number;
  /** After the run that took our message ended, finish when quiet for this long (default 300 ms). */
  settleMs?: number;
}

/**
 * Decides when `clawpod send` has its answer. Pure: feed it messages and run events with the
 * current time, ask {@link ReplyWaiter.isDone} / {@link ReplyWaiter.nextCheckAt}.
 *
 * The rule: outbound messages with seq > posted seq are the reply (each printed once). After
 * the first one, the wait ends when the run that consumed our message ended (plus a short
 * settle for trailing deliveries), or after a quiet period with nothing new (a live run may
 * stay open for follow-ups long after it answered). A run that ended `ok` without any reply
 * ends the wait after the quiet period too (the agent chose to stay silent).
 */
export class ReplyWaiter {
  private readonly seen = new Set<number>();
  private readonly quietMs: number;
  private readonly settleMs: number;
  private firstReplyAt: number | null = null;
  private lastActivityAt: number | null = null;
  private runEndedAt: number | null = null;
  private runEndedStatus: string | null = null;

  constructor(private readonly opts: ReplyWaitOptions) {
    this.quietMs = opts.quietMs ?? 2000;
    this.settleMs = opts.settleMs ?? 300;
  }

  /** Whether any reply arrived yet. */
  get replied(): boolean {
    return this.firstReplyAt !== null;
  }

  /** Offers a message (SSE or catch-up); returns it when it is a new part of the reply. */
  onMessage(msg: ChatMessage, now: number): ChatMessage | undefined {
    if (msg.direction !== 'out' || msg.seq <= this.opts.postedSeq || this.seen.has(msg.seq))
      return undefined;
    this.seen.add(msg.seq);
    this.firstReplyAt ??= now;
    this.lastActivityAt = now;
    return msg;
  }

  /** Offers a run event; notes the end of the run that consumed our message. */
  onRun(run: Pick<RunRecord, 'group' | 'kind' | 'status' | 'seqEnd'>, now: number): void {
    if (run.kind !== 'message' || run.status === 'running') return;
    if (this.opts.group !== undefined && run.group !== this.opts.group) return;
    if (run.seqEnd === null || run.seqEnd < this.opts.postedSeq) return;
    // A failed attempt is retried by the queue (or ends with a notice message): keep waiting.
    if (run.status !== 'ok' && !this.replied) return;
    this.runEndedAt = now;
    this.runEndedStatus = run.status;
    this.lastActivityAt = Math.max(this.lastActivityAt ?? now, now);
  }

  /** The time at which {@link isDone} may become true, or null while only new events can end it. */
  nextCheckAt(): number | null {
    const candidates: number[] = [];
    if (this.replied && this.lastActivityAt !== null) {
      candidates.push(this.lastActivityAt + this.quietMs);
      if (this.runEndedAt !== null) candidates.push(this.lastActivityAt + this.settleMs);
    } else if (this.runEndedAt !== null && this.runEndedStatus === 'ok') {
      candidates.push(this.runEndedAt + this.quietMs);
    }
    return candidates.length ? Math.min(...candidates) : null;
  }

  /** Whether the wait is over at `now`. */
  isDone(now: number): boolean {
    const at = this.nextCheckAt();
    return at !== null && now >= at;
  }
}
