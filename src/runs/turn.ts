import type { Logger } from 'pino';
import type { ChannelSet } from '../channels/registry.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { cleanReply } from '../conversation/reply.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { EventBus } from '../events/bus.js';
import type { Group } from '../store/group-schema.js';
import type { Store } from '../store/store.js';
import { MAX_TOOL_STEPS, type ToolStep } from '../store/transcripts.js';
import type { LauncherRegistry } from './agent-process.js';
import type { SessionPool } from './session-pool.js';

/** What every job's turn needs from the daemon. */
export interface TurnDeps {
  config: Config;
  store: Store;
  launchers: LauncherRegistry;
  pool: SessionPool;
  outbox: Pick<OutboxWorker, 'enqueue' | 'kick' | 'notifyOwner' | 'ownerChat'>;
  channels: ChannelSet;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** The guard's part of a turn (src/guard/turn-gate.ts); absent: no budgets, no taint. */
  guard?: TurnGuard;
}

/**
 * Before a turn starts: records what untrusted content it reads (taint) and checks its budget;
 * a cap it would cross pauses here while the owner is asked. `go: false` ends the run as not
 * run (skipped), never as failed. `after` forgets the turn's in-memory state.
 */
export interface TurnGuard {
  before(t: {
    runId: string;
    group: string;
    chat: string;
    taskId?: string;
    taint: readonly string[];
  }): Promise<{ go: true } | { go: false; reason: string }>;
  after(runId: string): void;
}

/** One turn: the run row exists (status running); this answers it and commits. */
export interface TurnRequest {
  runId: string;
  group: Group;
  /** The queue lane (one live session per lane). */
  lane: string;
  /** Resume the group's conversation and keep the session warm; false: fresh, one turn. */
  conversation: boolean;
  prompt: string;
  /** Where the replies go, and what they answer. */
  chat: string;
  replyTo: string | null;
  /** Prefix of the outbox idempotency keys of this turn's replies. */
  keyPrefix: string;
  /** Show "typing…" in the chat while the agent works (a person is waiting). */
  typing: boolean;
  /**
   * Where the replies go: `chat` (default) sends them; `none` only hands them to `onCommit`
   * (a delegate run: its reply is its caller's result), and refusals and skips are not sent.
   */
  deliver?: 'chat' | 'none';
  /** Runs inside the commit transaction, given the replies (cleaned): cursors, task rows. */
  onCommit(replies: string[]): void;
  /**
   * Runs inside the transaction that records a stop by the owner: consume the input without an
   * answer. Absent: `onCommit([])`.
   */
  onStop?(): void;
  /** Untrusted content the prompt holds (see guard/taint.ts); its side effects then ask. */
  taint?: readonly string[];
  /** The task this turn runs (its budget counts too). */
  taskId?: string;
  /** In the transaction that ends a skipped run (default: onCommit with no replies). */
  onSkip?(reason: string): void;
  /**
   * The agent answered and its answer is about to commit: the job may give its queue slot to
   * waiting work (see GroupQueue.release). Not called for a failed or stopped turn.
   */
  onAnswered?(): void;
}

export type TurnResult =
  | { status: 'ok' }
  /** The chat was told why (no harness, missing credential…); retrying cannot help. */
  | { status: 'refused'; message: string }
  | { status: 'failed'; message: string }
  /** Not run: over budget and the owner said skip (or did not answer). Not a failure. */
  | { status: 'skipped'; message: string }
  /** The owner stopped it: the input counts as consumed, nothing is retried or sent. */
  | { status: 'stopped' };

/** The run's error text when the owner stopped it (`POST /api/runs/:id/stop`). */
export const STOPPED_BY_OWNER = 'stopped by the owner';

/**
 * Runs one turn to its end: checks the group's harness can run (else tells the chat why),
 * takes the lane's agent session, hands it the prompt, and commits the replies, usage, resume
 * id, `onCommit` and the run's `ok` in one transaction the moment the agent has answered.
 * Typing stops with the answer. A failure is recorded on the run row; the caller retries.
 * Before the session is taken, the guard records the turn's taint and checks its budget.
 */
export async function runTurn(deps: TurnDeps, req: TurnRequest): Promise<TurnResult> {
  const { config } = deps;
  const g = req.group;
  const log = deps.log.child({ group: g.folder, run: req.runId });
  const harness = g.harness ?? config.file.defaults.harness;
  const launcher = deps.launchers.get(harness);
  await launcher?.prepare?.(g);
  const problem = launcher
    ? launcher.problem(g)
    : {
        message: `The "${harness}" agent harness is not available in this clawpod build. Set another harness for this group: clawpod groups set ${g.folder} harness=<name> (available: ${deps.launchers.names().join(', ') || 'none'}).`,
      };
  if (problem) {
    log.warn({ problem: problem.message }, 'no usable harness; telling the chat');
    return refuse(deps, req, problem.message);
  }

  // Paused, not failed, while the owner decides on a budget; a skip consumes the input.
  const gate = await deps.guard?.before({
    runId: req.runId,
    group: g.folder,
    chat: req.chat,
    taskId: req.taskId,
    taint: req.taint ?? [],
  });
  if (gate && !gate.go) return skip(deps, req, gate.reason);
  try {
    return await answer(deps, req, harness, log);
  } finally {
    deps.guard?.after(req.runId);
  }
}

async function answer(
  deps: TurnDeps,
  req: TurnRequest,
  harness: string,
  log: Logger,
): Promise<TurnResult> {
  const { config, store, outbox, clock } = deps;
  const g = req.group;
  const session = deps.pool.acquire({
    lane: req.lane,
    group: g,
    harness,
    conversation: req.conversation,
  });
  // Bookkeeping for the run page: batched with the session's own rows (SessionPool.record).
  store
    .commit(() => store.runs.setSession(req.runId, session.id))
    .catch((err: unknown) => log.warn({ err }, "could not record the run's session"));
  const channel = req.typing ? deps.channels.forChat(req.chat) : undefined;
  void channel?.setTyping?.(req.chat, true).catch(() => undefined);
  log.info({ harness, session: session.id }, 'turn started');
  const tools: ToolStep[] = [];
  const outcome = await session.turn(
    req.prompt,
    { runId: req.runId, chat: req.chat, replyTo: req.replyTo },
    {
      timeoutMs: g.limits.runTimeoutMs ?? config.file.limits.runTimeoutMs,
      // Live views (SSE) get every step; tool steps are also kept, with the turn's end, in its
      // run's transcript. Partial text and log lines are live only (log lines: daemon log).
      onProgress: (p) => {
        const at = clock.now();
        if (p.kind === 'tool' && tools.length < MAX_TOOL_STEPS)
          tools.push({ name: p.name, summary: p.summary, at });
        deps.bus.emit('progress', { ...p, runId: req.runId, group: g.folder, chat: req.chat, at });
      },
    },
  );
  void channel?.setTyping?.(req.chat, false).catch(() => undefined);

  if (!outcome.ok && 'stopped' in outcome) {
    // Stopped by the owner: the input is consumed (onCommit) and the run ends as an error that
    // says so; the job does not retry it and nothing more is sent to the chat. A distinct run
    // status would need a rebuild of the runs table (its CHECK constraint): left for later.
    store.tx(() => {
      if (req.onStop) req.onStop();
      else req.onCommit([]);
      keepToolSteps(deps, req.runId, tools);
      store.runs.finish(req.runId, 'error', STOPPED_BY_OWNER, clock.now());
    });
    emitRun(deps, req.runId);
    log.info('turn stopped by the owner');
    return { status: 'stopped' };
  }

  if (!outcome.ok) {
    // What the agent did before it failed stays on the run's page.
    if (!outcome.retryable) {
      log.warn({ err: outcome.message }, 'turn failed; not retryable');
      return refuse(deps, req, outcome.message, tools);
    }
    store.tx(() => {
      keepToolSteps(deps, req.runId, tools);
      store.runs.finish(req.runId, 'error', outcome.message, clock.now());
    });
    emitRun(deps, req.runId);
    log.warn({ err: outcome.message }, 'turn failed');
    return { status: 'failed', message: outcome.message };
  }
  const texts = outcome.messages.map(cleanReply).filter(Boolean);
  const sending = req.deliver !== 'none';
  // Durable before anything is sent (kick); the answers of concurrent runs share one fsync.
  const committed = store.commit(() => {
    (sending ? texts : []).forEach((text, i) =>
      outbox.enqueue({
        key: `${req.keyPrefix}:${i}`,
        chatId: req.chat,
        text,
        replyTo: req.replyTo,
        thread: g.threadReplies,
        runId: req.runId,
      }),
    );
    if (outcome.usage) store.runs.addUsage(req.runId, outcome.usage);
    if (outcome.resumeId && req.conversation)
      store.resumeIds.set(g.folder, harness, outcome.resumeId, clock.now());
    req.onCommit(texts);
    // Searchable history and the run page's steps.
    store.transcripts.recordTurn(req.runId, {
      prompt: req.prompt,
      replies: texts,
      tools,
      at: clock.now(),
    });
    store.runs.finish(req.runId, 'ok', null, clock.now());
  });
  req.onAnswered?.();
  await committed;
  if (sending && texts.length) outbox.kick();
  emitRun(deps, req.runId);
  log.info({ replies: texts.length }, 'turn answered');
  return { status: 'ok' };
}

/** Ends the run as not run: one line in the chat, the input consumed, the run `skipped`. */
function skip(deps: TurnDeps, req: TurnRequest, reason: string): TurnResult {
  const { store, outbox, clock } = deps;
  store.tx(() => {
    if (req.deliver !== 'none')
      outbox.enqueue({
        key: `${req.keyPrefix}:skipped`,
        chatId: req.chat,
        text: `⏭️ Not run: ${reason}.`,
        replyTo: req.replyTo,
        runId: req.runId,
      });
    if (req.onSkip) req.onSkip(reason);
    else req.onCommit([]);
    store.runs.skip(req.runId, reason, clock.now());
  });
  outbox.kick();
  emitRun(deps, req.runId);
  deps.log.info({ group: req.group.folder, run: req.runId, reason }, 'run skipped');
  return { status: 'skipped', message: reason };
}

/**
 * Tells the chat why nothing can run, consumes the input, and ends the run `dead`: it is over
 * for good (no retry can help; the user must act), as after its last failed attempt.
 */
function refuse(
  deps: TurnDeps,
  req: TurnRequest,
  message: string,
  tools: ToolStep[] = [],
): TurnResult {
  const { store, outbox, clock } = deps;
  store.tx(() => {
    keepToolSteps(deps, req.runId, tools);
    if (req.deliver !== 'none')
      outbox.enqueue({
        key: `${req.keyPrefix}:notice`,
        chatId: req.chat,
        text: `⚠️ ${message}`,
        replyTo: req.replyTo,
        runId: req.runId,
      });
    req.onCommit([]);
    store.runs.finish(req.runId, 'dead', message, clock.now());
  });
  outbox.kick();
  emitRun(deps, req.runId);
  return { status: 'refused', message };
}

export function emitRun(deps: Pick<TurnDeps, 'store' | 'bus'>, runId: string): void {
  const run = deps.store.runs.get(runId);
  if (run) deps.bus.emit('run', run);
}

/** Keeps a turn's tool steps in its run's transcript when it ends without replies. */
function keepToolSteps(deps: TurnDeps, runId: string, tools: ToolStep[]): void {
  if (tools.length)
    deps.store.transcripts.recordTurn(runId, {
      prompt: '',
      replies: [],
      tools,
      at: deps.clock.now(),
    });
}
