import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { EventBus } from '../events/bus.js';
import type { Group } from '../groups/group-schema.js';
import type { GroupQueue, WorkItem } from '../queue/group-queue.js';
import { cleanReply, formatPrompt } from '../router/prompt.js';
import { isTriggered } from '../router/trigger.js';
import type { Store } from '../store/store.js';
import type { Usage } from '../store/runs.js';
import type { ChannelSet } from '../channels/registry.js';
import type { AgentRun, RunnerEvent, RunnerRegistry } from './runner.js';

export const newRunId = (): string => `run_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

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
}

/** A conversation run in progress that can take follow-ups. */
interface LiveRun {
  runId: string;
  agent: AgentRun;
  /** Input id → highest message seq it carries. Input 0 is the first batch. */
  inputs: Map<number, number>;
  nextInputId: number;
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
      if (pending.some((m) => this.triggers(m.text, g))) this.enqueueMessages(g.folder);
    }
  }

  /** Asks every live run to finish after its current turn (shutdown: idle agents end now). */
  closeAll(): void {
    for (const l of this.live.values()) l.agent.close();
  }

  /** Ends every live run at once (shutdown timeout). Their batches stay pending. */
  killAll(reason: string): void {
    for (const l of this.live.values()) l.agent.kill(reason);
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

  private triggers(text: string, g: Group): boolean {
    return isTriggered(text, g, this.opts.config.file.assistant.name);
  }

  private prompt(messages: Parameters<typeof formatPrompt>[0]): string {
    const { config } = this.opts;
    return formatPrompt(messages, { timezone: config.timezone, maxMessages: config.file.router.maxPromptMessages });
  }

  private async handOff(folder: string, live: LiveRun): Promise<void> {
    const g = this.opts.store.groups.get(folder);
    if (!g || this.live.get(folder) !== live) return this.enqueueMessages(folder);
    const pending = this.opts.store.messages.pendingForGroup(folder, Math.max(live.handedUpTo, g.cursorSeq));
    if (!pending.some((m) => this.triggers(m.text, g))) return;
    const seqEnd = pending[pending.length - 1]!.seq;
    const inputId = live.nextInputId++;
    const ok = await live.agent.handOff(inputId, this.prompt(pending));
    if (ok && this.live.get(folder) === live) {
      live.inputs.set(inputId, seqEnd);
      live.handedUpTo = seqEnd;
      this.opts.store.runs.extend(live.runId, seqEnd);
      this.opts.log.debug({ group: folder, run: live.runId, inputId }, 'follow-up handed to live run');
    } else {
      this.enqueueMessages(folder);
    }
  }

  private async runMessages(folder: string, attempt: number): Promise<void> {
    const { store, config, runners } = this.opts;
    const g = store.groups.get(folder);
    if (!g) return;
    const pending = store.messages.pendingForGroup(folder, g.cursorSeq);
    const triggering = pending.filter((m) => this.triggers(m.text, g));
    const last = triggering[triggering.length - 1];
    if (!last) return;
    const seqStart = pending[0]!.seq;
    const seqEnd = pending[pending.length - 1]!.seq;
    const runId = newRunId();
    const log = this.opts.log.child({ group: folder, run: runId, attempt });
    this.attempted.set(folder, { runId, seqStart, seqEnd, chatJid: last.chatJid });
    store.runs.start({ id: runId, group: folder, kind: 'messages', chatJid: last.chatJid, seqStart, seqEnd, attempt, now: this.now() });
    this.emitRun(runId);

    const harness = g.harness ?? config.file.defaults.harness;
    const runner = runners.get(harness);
    const problem = runner
      ? runner.problem(g)
      : { message: `The "${harness}" agent harness is not available in this clawpod build. Set another harness for this group: clawpod groups set ${folder} harness=<name> (available: ${runners.names().join(', ') || 'none'}).` };
    if (!runner || problem) {
      log.warn({ problem: problem?.message }, 'no usable harness; telling the chat');
      this.finishWithNotice(runId, folder, last.chatJid, seqEnd, problem!.message);
      return;
    }

    const agent = runner.start({
      runId,
      group: g,
      harness,
      model: g.model ?? config.file.defaults.model,
      prompt: this.prompt(pending),
      sessionId: store.sessions.get(folder, harness),
      chatJid: last.chatJid,
      timezone: config.timezone,
      assistantName: config.file.assistant.name,
    });
    const live: LiveRun = { runId, agent, inputs: new Map([[0, seqEnd]]), nextInputId: 1, handedUpTo: seqEnd, handOffChain: Promise.resolve() };
    this.live.set(folder, live);
    const timeoutMs = g.limits.runTimeoutMs ?? config.file.limits.runTimeoutMs;
    const timer = setTimeout(() => agent.kill('run timeout'), timeoutMs).unref();
    const channel = this.opts.channels.forChat(last.chatJid);
    void channel?.setTyping?.(last.chatJid, true).catch(() => undefined);
    log.info({ seqStart, seqEnd, harness }, 'run started');

    let outputs: string[] = [];
    let turn = 0;
    let answeredInput = -1;
    let failure: RunnerEvent & { type: 'error' } | undefined;
    try {
      for await (const ev of agent.events) {
        if (ev.type === 'output') {
          const text = cleanReply(ev.text);
          if (text) outputs.push(text);
        } else if (ev.type === 'turn-end') {
          const upTo = Math.max(...[...live.inputs].filter(([id]) => id <= ev.lastInputId).map(([, s]) => s));
          this.commitTurn(runId, folder, harness, last.chatJid, turn++, outputs, upTo, ev.usage, ev.sessionId);
          outputs = [];
          answeredInput = Math.max(answeredInput, ev.lastInputId);
        } else {
          failure = ev;
        }
      }
    } catch (err) {
      failure = { type: 'error', message: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
      if (this.live.get(folder) === live) this.live.delete(folder);
      void channel?.setTyping?.(last.chatJid, false).catch(() => undefined);
    }
    const unanswered = live.nextInputId - 1 > answeredInput;
    if (failure?.retryable === false) {
      log.warn({ err: failure.message }, 'run failed; not retryable');
      this.finishWithNotice(runId, folder, last.chatJid, live.handedUpTo, failure.message);
      return;
    }
    if (failure || unanswered) {
      const message = failure?.message ?? 'the agent exited before answering';
      store.runs.finish(runId, 'error', message, this.now());
      this.emitRun(runId);
      throw new RunFailure(message);
    }
    store.runs.finish(runId, 'ok', null, this.now());
    this.emitRun(runId);
    log.info('run finished');
  }

  private commitTurn(
    runId: string,
    folder: string,
    harness: string,
    chatJid: string,
    turn: number,
    outputs: string[],
    upToSeq: number,
    usage: Usage | undefined,
    sessionId: string | undefined,
  ): void {
    const { store, outbox } = this.opts;
    store.tx(() => {
      outputs.forEach((text, i) => outbox.enqueue({ key: `run:${runId}:${turn}:${i}`, chatJid, text, runId }));
      store.groups.advanceCursor(folder, upToSeq);
      if (usage) store.runs.addUsage(runId, usage);
      if (sessionId) store.sessions.set(folder, harness, sessionId, this.now());
    });
    outbox.kick();
  }

  /** Ends a run that cannot proceed with a reply saying why; the batch is consumed. */
  private finishWithNotice(runId: string, folder: string, chatJid: string, seqEnd: number, message: string): void {
    const { store, outbox } = this.opts;
    store.tx(() => {
      outbox.enqueue({ key: `run:${runId}:notice`, chatJid, text: `⚠️ ${message}`, runId });
      store.groups.advanceCursor(folder, seqEnd);
      store.runs.finish(runId, 'error', message, this.now());
    });
    outbox.kick();
    this.emitRun(runId);
  }

  private emitRun(runId: string): void {
    const run = this.opts.store.runs.get(runId);
    if (run) this.opts.bus.emit('run', run);
  }
}
