import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { EventBus } from '../events/bus.js';
import type { Group } from '../groups/group-schema.js';
import type { GroupQueue, WorkItem } from '../queue/group-queue.js';
import { formatPrompt } from '../router/prompt.js';
import { isTriggered } from '../router/trigger.js';
import type { Store } from '../store/store.js';
import type { ChannelSet } from '../channels/registry.js';
import type { AgentRun, RunnerRegistry } from './runner.js';
import { runAgentJob, type AgentJobDeps, type AgentJobOutcome } from './agent-job.js';

export const newRunId = (): string =>
  `run_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

export interface RunExecutorOptions {
  config: Config;
  store: Store;
  runners: RunnerRegistry;
  outbox: OutboxWorker;
  channels: ChannelSet;
  bus: EventBus;
  log: Logger;
  now?: () => number;
  /** Handles `task` work items (the scheduler plugs in here). */
  taskWork?: (item: WorkItem, attempt: number) => Promise<void>;
  /** Handles `task` items that failed every attempt (the scheduler records and notifies). */
  taskDeadLetter?: (item: WorkItem, error: Error, attempts: number) => void;
}

/** A conversation run in progress that can take follow-ups. */
interface LiveRun {
  runId: string;
  /** Set once the runner started (undefined while no agent takes hand-offs). */
  agent: AgentRun | undefined;
  /** Input id → highest message seq it carries. Input 0 is the first batch. */
  inputs: Map<number, number>;
  nextInputId: number;
  /** Highest input id answered (a committed turn); idle when it caught up with nextInputId. */
  answered: number;
  /** When it last became idle, to pick the longest-idle agent to close. */
  idleSince: number;
  handedUpTo: number;
  /** Serialises hand-offs so two never carry the same messages. */
  handOffChain: Promise<unknown>;
}

/** The batch of the most recent attempt per group, for dead-lettering. */
interface Attempted {
  runId: string;
  seqStart: number;
  seqEnd: number;
  chatJid: string;
}

class RunFailure extends Error {}

/**
 * Turns queued work into agent runs: reads the batch from the group's cursor, starts the
 * group's runner, hands follow-ups to a live run, and commits each turn's replies together
 * with the cursor in one transaction.
 */
export class RunExecutor {
  private readonly live = new Map<string, LiveRun>();
  private readonly attempted = new Map<string, Attempted>();
  private readonly now: () => number;
  private queue!: GroupQueue;

  constructor(private readonly opts: RunExecutorOptions) {
    this.now = opts.now ?? Date.now;
  }

  attach(queue: GroupQueue): void {
    this.queue = queue;
  }

  /** New triggering messages for a group: give them to its live run, else queue a run. */
  submitMessages(folder: string): Promise<void> {
    const live = this.live.get(folder);
    if (!live) {
      this.enqueueMessages(folder);
      return Promise.resolve();
    }
    const step = live.handOffChain.then(() => this.handOff(folder, live));
    live.handOffChain = step.catch(() => undefined);
    return step;
  }

  /** Groups with unanswered triggering messages (after a restart). */
  recoverPending(): void {
    for (const g of this.opts.store.groups.list()) {
      const pending = this.opts.store.messages.pendingForGroup(g.folder, g.cursorSeq);
      if (pending.some((m) => this.triggers(m, g))) this.enqueueMessages(g.folder);
    }
  }

  /**
   * The queue's pressure signal: work waits behind a warm agent. A lane's own idle agent is
   * closed so its task can start; without a lane, the longest-idle agent frees its slot.
   * Messages never need this: they are handed to the live agent instead.
   */
  releaseIdle(lane?: string): void {
    const idle = [...this.live.entries()]
      .filter(
        ([folder, l]) =>
          l.agent && l.answered >= l.nextInputId - 1 && (lane === undefined || folder === lane),
      )
      .sort((a, b) => a[1].idleSince - b[1].idleSince);
    const first = idle[0];
    if (!first) return;
    this.opts.log.info(
      { group: first[0], run: first[1].runId },
      'closing an idle warm agent: work is waiting',
    );
    first[1].agent?.close();
  }

  /** Asks every live run to finish after its current turn (shutdown: idle agents end now). */
  closeAll(): void {
    for (const l of this.live.values()) l.agent?.close();
  }

  /** Ends every live run at once (shutdown timeout). Their batches stay pending. */
  killAll(reason: string): void {
    for (const l of this.live.values()) l.agent?.kill(reason);
  }

  liveCount(): number {
    return this.live.size;
  }

  /** The queue's `run` handler. */
  async run(item: WorkItem, attempt: number): Promise<void> {
    if (item.kind === 'task') {
      if (!this.opts.taskWork) throw new Error('scheduled tasks are not available in this build');
      return this.opts.taskWork(item, attempt);
    }
    return this.runMessages(item.group, attempt);
  }

  /** The queue's dead-letter handler: record, skip the batch, tell the owner and the chat. */
  deadLetter(item: WorkItem, error: Error, attempts: number): void {
    if (item.kind === 'task' && this.opts.taskDeadLetter)
      return this.opts.taskDeadLetter(item, error, attempts);
    const { store, outbox } = this.opts;
    const a = this.attempted.get(item.lane);
    store.tx(() => {
      store.deadLetters.add({
        kind: 'run',
        group: item.group,
        chatJid: a?.chatJid ?? null,
        ref: a?.runId ?? item.key,
        seqStart: a?.seqStart ?? null,
        seqEnd: a?.seqEnd ?? null,
        error: error.message,
        createdAt: this.now(),
      });
      if (a) store.groups.advanceCursor(item.group, a.seqEnd);
      if (a && !store.groups.main()?.chats.includes(a.chatJid)) {
        outbox.enqueue({
          key: `dead:${a.runId}:chat`,
          chatJid: a.chatJid,
          text: `Sorry, I could not answer that: the agent failed ${attempts} times (${error.message}). The owner has been told.`,
        });
      }
    });
    outbox.notifyOwner(
      `dead:${a?.runId ?? item.key}`,
      `⚠️ Group "${item.group}": a run failed ${attempts} times and was dead-lettered` +
        (a ? ` (messages ${a.seqStart}–${a.seqEnd} in ${a.chatJid})` : '') +
        `. Last error: ${error.message}`,
    );
  }

  private enqueueMessages(folder: string): void {
    this.queue.enqueue({ lane: folder, group: folder, kind: 'messages', key: 'messages' });
  }

  private triggers(m: { text: string; mentioned: boolean }, g: Group): boolean {
    return m.mentioned || isTriggered(m.text, g, this.opts.config.file.assistant.name);
  }

  private prompt(messages: Parameters<typeof formatPrompt>[0]): string {
    const { config } = this.opts;
    return formatPrompt(messages, {
      timezone: config.timezone,
      maxMessages: config.file.router.maxPromptMessages,
    });
  }

  private async handOff(folder: string, live: LiveRun): Promise<void> {
    const g = this.opts.store.groups.get(folder);
    if (!g || this.live.get(folder) !== live) return this.enqueueMessages(folder);
    const pending = this.opts.store.messages.pendingForGroup(
      folder,
      Math.max(live.handedUpTo, g.cursorSeq),
    );
    if (!pending.some((m) => this.triggers(m, g))) return;
    const seqEnd = pending[pending.length - 1]!.seq;
    const inputId = live.nextInputId++;
    const ok = (await live.agent?.handOff(inputId, this.prompt(pending))) ?? false;
    if (ok && this.live.get(folder) === live) {
      live.inputs.set(inputId, seqEnd);
      live.handedUpTo = seqEnd;
      this.opts.store.runs.extend(live.runId, seqEnd);
      this.opts.log.debug(
        { group: folder, run: live.runId, inputId },
        'follow-up handed to live run',
      );
    } else {
      this.enqueueMessages(folder);
    }
  }

  private async runMessages(folder: string, attempt: number): Promise<void> {
    const { store } = this.opts;
    const g = store.groups.get(folder);
    if (!g) return;
    const pending = store.messages.pendingForGroup(folder, g.cursorSeq);
    const triggering = pending.filter((m) => this.triggers(m, g));
    const last = triggering[triggering.length - 1];
    if (!last) return;
    const seqStart = pending[0]!.seq;
    const seqEnd = pending[pending.length - 1]!.seq;
    const runId = newRunId();
    this.attempted.set(folder, { runId, seqStart, seqEnd, chatJid: last.chatJid });
    store.runs.start({
      id: runId,
      group: folder,
      kind: 'messages',
      chatJid: last.chatJid,
      seqStart,
      seqEnd,
      attempt,
      now: this.now(),
    });
    this.emitRun(runId);

    const live: LiveRun = {
      runId,
      agent: undefined,
      inputs: new Map([[0, seqEnd]]),
      nextInputId: 1,
      answered: -1,
      idleSince: 0,
      handedUpTo: seqEnd,
      handOffChain: Promise.resolve(),
    };
    let outcome: AgentJobOutcome;
    try {
      outcome = await runAgentJob(this.jobDeps(), {
        runId,
        group: g,
        chatJid: last.chatJid,
        prompt: this.prompt(pending),
        useGroupSession: true,
        keyPrefix: `run:${runId}`,
        onCommit: (lastInputId) => {
          const answered = [...live.inputs].filter(([id]) => id <= lastInputId).map(([, s]) => s);
          store.groups.advanceCursor(folder, Math.max(...answered));
          live.answered = Math.max(live.answered, lastInputId);
          live.idleSince = this.now();
          // Caught up while other work waits: finish instead of idling warm.
          if (live.answered >= live.nextInputId - 1 && this.queue.hasWaitingWork(folder))
            live.agent?.close();
        },
        onLive: (agent) => {
          live.agent = agent;
          this.live.set(folder, live);
        },
        lastInputId: () => live.nextInputId - 1,
      });
    } finally {
      if (this.live.get(folder) === live) this.live.delete(folder);
    }
    this.finishRun(runId, outcome);
  }

  /** The shared parts every agent job needs (the scheduler's task runs use them too). */
  jobDeps(): AgentJobDeps {
    const { config, store, runners, outbox, channels, log } = this.opts;
    return { config, store, runners, outbox, channels, log, now: this.now };
  }

  /** Records a job's outcome on its run row; a failure throws so the queue retries. */
  finishRun(runId: string, outcome: AgentJobOutcome): void {
    const status = outcome.status === 'ok' ? 'ok' : 'error';
    this.opts.store.runs.finish(
      runId,
      status,
      outcome.status === 'ok' ? null : outcome.message,
      this.now(),
    );
    this.emitRun(runId);
    if (outcome.status === 'failed') throw new RunFailure(outcome.message);
  }

  private emitRun(runId: string): void {
    const run = this.opts.store.runs.get(runId);
    if (run) this.opts.bus.emit('run', run);
  }
}
