import { randomBytes } from 'node:crypto';
import { formatPrompt } from '../conversation/prompt.js';
import { senderRole } from '../conversation/senders.js';
import { isTriggered } from '../conversation/trigger.js';
import { taintOfMessages } from '../guard/taint.js';
import type { Job } from '../queue/job.js';
import type { StoredMessage } from '../store/messages.js';
import { emitRun, runTurn, type TurnDeps } from './turn.js';

/** What a message job needs: the turn path, and the queue to come back when more is pending. */
export interface MessageJobDeps extends TurnDeps {
  /** Follow-up turns go here; the job's slot is released once the agent answered. */
  queue: { enqueue(job: Job): boolean; release(lane: string): void };
}

export const newRunId = (): string =>
  `run_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/** Where a job's messages come from: the chat's cursor, or a dead-lettered range replayed. */
type Batch = { from: 'cursor' } | { from: 'range'; seqStart: number; seqEnd: number; ref: string };

/** The batch of the latest attempt, for dead-lettering. */
interface Attempt {
  runId: string;
  seqStart: number;
  seqEnd: number;
}

/**
 * One turn for one chat: the chat's pending messages (after its cursor) become one prompt, the
 * group's conversation session answers, and the replies go to that chat — threaded to the
 * message that woke the agent — in one transaction with the chat's cursor. Runs in the group's
 * conversation lane, so a group answers its chats one turn at a time, each in its own chat.
 * A standalone message (a mail) is answered in a turn of its own, with what came before it as
 * context; the job comes back for what is still pending.
 */
export class MessageJob implements Job {
  readonly kind = 'message';
  readonly lane: string;
  readonly key: string;
  private last: Attempt | undefined;

  constructor(
    private readonly deps: MessageJobDeps,
    readonly group: string,
    readonly chat: string,
    private readonly batch: Batch = { from: 'cursor' },
  ) {
    this.lane = group;
    this.key = batch.from === 'cursor' ? `chat:${chat}` : `replay:${batch.ref}`;
  }

  async run(attempt: number): Promise<void> {
    const { store, config, clock } = this.deps;
    const g = store.groups.groupForChat(this.chat);
    if (!g || g.folder !== this.group) return; // unbound or moved meanwhile: stays as history
    const pending =
      this.batch.from === 'cursor'
        ? store.messages.pendingForChat(this.chat)
        : store.messages.range(this.chat, this.batch.seqStart, this.batch.seqEnd);
    const turn = nextTurn(pending, this.batch.from === 'range');
    if (!turn) return;
    const { messages, answering } = turn;
    const seqStart = messages[0]!.seq;
    const seqEnd = messages[messages.length - 1]!.seq;
    const runId = newRunId();
    this.last = { runId, seqStart, seqEnd };
    store.runs.start({
      id: runId,
      group: g.folder,
      kind: 'message',
      chatId: this.chat,
      replyTo: answering.platformId,
      seqStart,
      seqEnd,
      attempt,
      now: clock.now(),
    });
    emitRun(this.deps, runId);
    const roleOf = (sender: string) => senderRole(sender, g, config.file.owner.ids);
    const result = await runTurn(this.deps, {
      runId,
      group: g,
      lane: this.lane,
      conversation: true,
      prompt: formatPrompt(messages, {
        timezone: config.timezone,
        maxMessages: config.file.router.maxPromptMessages,
        roleOf,
      }),
      // Anything not from the owner (mail, webhooks, other senders) taints the turn.
      taint: taintOfMessages(messages, roleOf),
      chat: this.chat,
      replyTo: answering.platformId,
      keyPrefix: `run:${runId}`,
      typing: true,
      onCommit: () => store.cursors.advance(this.chat, seqEnd),
      onAnswered: () => this.deps.queue.release(this.lane),
    });
    if (result.status === 'failed') throw new Error(result.message);
    if (messages.length < pending.length && this.batch.from === 'cursor')
      this.deps.queue.enqueue(new MessageJob(this.deps, this.group, this.chat));
  }

  /** Every attempt failed: record it, move the chat past the batch, tell the owner and the chat. */
  deadLetter(error: Error, attempts: number): void {
    const { store, clock, outbox } = this.deps;
    const a = this.last;
    const now = clock.now();
    let deadId = 0;
    store.tx(() => {
      deadId = store.deadLetters.add({
        kind: 'run',
        group: this.group,
        chatId: this.chat,
        ref: a?.runId ?? this.key,
        seqStart: a?.seqStart ?? null,
        seqEnd: a?.seqEnd ?? null,
        error: error.message,
        createdAt: now,
      });
      if (!a) return;
      store.runs.finish(a.runId, 'dead', error.message, now);
      store.cursors.advance(this.chat, a.seqEnd);
      // The owner's notice below goes to their chat; another chat (main's web chat too) is told.
      if (this.chat !== outbox.ownerChat()) {
        outbox.enqueue({
          key: `dead:${a.runId}:chat`,
          chatId: this.chat,
          text: `Sorry, I could not answer that: the agent failed ${attempts} times (${error.message}). The owner has been told.`,
        });
      }
    });
    if (a) emitRun(this.deps, a.runId);
    outbox.notifyOwner(
      `dead:${a?.runId ?? this.key}`,
      `⚠️ Group "${this.group}": a run failed ${attempts} times and was dead-lettered` +
        (a ? ` (messages ${a.seqStart}–${a.seqEnd} in ${this.chat})` : '') +
        `. Last error: ${error.message}. It is kept as dead letter #${deadId}: ` +
        `\`clawpod deadletters retry ${deadId}\` runs it again once the cause is fixed, ` +
        `\`clawpod deadletters discard ${deadId}\` drops it.`,
    );
  }
}

/**
 * What the next turn consumes and answers. Normally every pending message, answering the last
 * one that wakes the agent; when the first waking message is standalone (a mail), only up to
 * it. A replayed range answers its last message. Undefined when nothing wakes (the messages
 * stay as context).
 */
function nextTurn(
  pending: StoredMessage[],
  replay: boolean,
): { messages: StoredMessage[]; answering: StoredMessage } | undefined {
  if (!pending.length) return undefined;
  if (replay) return { messages: pending, answering: pending[pending.length - 1]! };
  const first = pending.findIndex((m) => m.wakes);
  if (first < 0) return undefined;
  if (pending[first]!.standalone)
    return { messages: pending.slice(0, first + 1), answering: pending[first]! };
  const last = pending.findLastIndex((m) => m.wakes);
  return { messages: pending, answering: pending[last]! };
}

/**
 * Decides `wakes` for pending messages stored by a version that did not (once, at start), with
 * the same rules as intake.
 */
export function decideLegacyWakes(deps: Pick<TurnDeps, 'store' | 'config'>): number {
  const { store, config } = deps;
  const undecided = store.messages.undecided();
  store.tx(() => {
    for (const m of undecided) {
      const g = store.groups.groupForChat(m.chatId);
      const wakes =
        g !== undefined && (m.mentioned || isTriggered(m.text, g, config.file.assistant.name));
      store.messages.setWakes(m.seq, wakes);
    }
  });
  return undecided.length;
}
