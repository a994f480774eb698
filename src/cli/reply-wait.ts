import type { RunRecord } from '../store/runs.js';
import type { ChatMessage } from './api-client.js';

export interface ReplyWaitOptions {
  /** The seq `POST /api/messages` returned for the message we sent. */
  postedSeq: number;
  /** The chat we posted to: only its runs and replies count. */
  chat: string;
}

/** What a run event tells the waiter, as the waiter needs it. */
export type RunView = Pick<
  RunRecord,
  'id' | 'kind' | 'chatId' | 'status' | 'seqStart' | 'seqEnd' | 'error'
>;

/**
 * Where the wait stands. `waiting`: for the run that consumes our message (an `error` attempt
 * is retried by the queue: still waiting). `delivering`: that run answered; its replies are on
 * their way (the caller checks the run's delivery state). `done`: answered and every reply
 * delivered. `failed`: the run ended without an answer for good (`dead`).
 */
export type WaitState =
  | { name: 'waiting' }
  | { name: 'delivering'; runId: string }
  | { name: 'done'; runId: string }
  | { name: 'failed'; runId: string; error: string };

/**
 * Decides when `clawpod send` has its answer — by events, never by a quiet timer. Pure: feed it
 * messages, run events and the answered run's delivery state.
 *
 * Outbound messages in our chat with seq > the posted seq are the reply (each printed once). The
 * wait is over when the run whose batch holds our message ended `ok` and none of its replies is
 * still waiting for delivery, or when it ended `dead` (every attempt failed, or nothing can run
 * it: the chat was told why).
 */
export class ReplyWaiter {
  private readonly seen = new Set<number>();
  private state_: WaitState = { name: 'waiting' };

  constructor(private readonly opts: ReplyWaitOptions) {}

  get state(): WaitState {
    return this.state_;
  }

  /** Whether any reply arrived yet. */
  get replied(): boolean {
    return this.seen.size > 0;
  }

  /** Offers a message (SSE or catch-up); returns it when it is a new part of the reply. */
  onMessage(msg: ChatMessage): ChatMessage | undefined {
    if (msg.direction !== 'out' || msg.seq <= this.opts.postedSeq || this.seen.has(msg.seq))
      return undefined;
    this.seen.add(msg.seq);
    return msg;
  }

  /** Whether a run event is about the run that consumes our message. */
  ours(run: RunView): boolean {
    return (
      run.kind === 'message' &&
      run.chatId === this.opts.chat &&
      run.seqStart !== null &&
      run.seqEnd !== null &&
      run.seqStart <= this.opts.postedSeq &&
      this.opts.postedSeq <= run.seqEnd
    );
  }

  /** Offers a run event. Returns the new state (`delivering`: check the run's replies). */
  onRun(run: RunView): WaitState {
    if (this.state_.name !== 'waiting' || !this.ours(run)) return this.state_;
    if (run.status === 'ok') this.state_ = { name: 'delivering', runId: run.id };
    else if (run.status === 'dead')
      this.state_ = { name: 'failed', runId: run.id, error: run.error ?? 'no reason given' };
    return this.state_;
  }

  /** The answered run's replies not yet delivered (pending or being sent). */
  onDelivery(runId: string, undelivered: number): WaitState {
    if (this.state_.name === 'delivering' && this.state_.runId === runId && undelivered === 0)
      this.state_ = { name: 'done', runId };
    return this.state_;
  }

  /** Whether the wait is over (done or failed). */
  get finished(): boolean {
    return this.state_.name === 'done' || this.state_.name === 'failed';
  }
}
