/**
 * The `delegate` tool on the host (docs/delegation.md): one group's agent hands a sub-task to
 * another group's agent, which answers it in a run of its own — its own sandbox, a fresh
 * session, its group's folder and memory — recorded as a child of the caller's run.
 *
 * - Who may: `main` any group; another group only those in its `delegates` setting. Depth
 *   (`delegation.maxDepth`) and per-turn fan-out (`delegation.maxFanOut`) are checked first,
 *   then the guard's `delegate` rule (main allowed, others ask; a tainted turn always asks).
 * - Where it runs: a queue lane of its own per delegation (`delegate:<id>`), so it never waits
 *   for its group's conversation lane nor blocks it; a caller waiting on it lends its global
 *   slot meanwhile (GroupQueue.lend), so waiting callers never hold every slot.
 * - How it ends: its reply and hand-off files, an error, its time limit, or abandoned when the
 *   caller waiting on it ends first. `wait: true` answers the caller's tool call
 *   (`responses/<id>.final.json`); `wait: false` stores the result as a message in the
 *   caller's chat in the transaction that ends the delegation, which wakes a new turn there.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Guard } from '../guard/guard.js';
import type { IpcActor, IpcResult } from '../ipc/request-handler.js';
import { delegateArgs, type PendingAnswer, type RequestFile } from '../protocol/ipc.js';
import type { Job } from '../queue/job.js';
import type { DelegationRecord, DelegationStatus, HandoffEntry } from '../store/delegations.js';
import type { Store } from '../store/store.js';
import type { RunRecord } from '../store/runs.js';
import type { EventBus } from '../events/bus.js';
import { newRunId } from '../runs/message-job.js';
import { emitRun, runTurn, type TurnDeps, type TurnResult } from '../runs/turn.js';
import { collectOutputs, copyInputs, handoffRel, type HandoffLimits } from './handoff.js';
import { checkDelegation } from './checks.js';
import { delegatePrompt, resultMessage, resultOf } from './results.js';

export interface DelegationDeps {
  config: Config;
  store: Store;
  clock: Clock;
  bus: EventBus;
  log: Logger;
  /** The turn path (a delegate run is a turn like any other). */
  turns: TurnDeps;
  queue: { enqueue(job: Job): boolean; lend<T>(lane: string, until: Promise<T>): Promise<T> };
  guard: Pick<Guard, 'request'>;
  /** Writes the final answer of a request first answered `pending`. */
  answerLater(group: string, id: string, result: IpcResult): Promise<void>;
  /** Queues the next turn of a chat (a `wait: false` result arrived in it). */
  wake(group: string, chat: string): void;
}

type Ended = Exclude<DelegationStatus, 'queued' | 'running'>;

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

const newDelegationId = (): string =>
  `dlg_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;

/** A first answer that makes the agent's IPC client wait `waitMs` for the final one. */
const pendingResultFor = (pending: PendingAnswer): IpcResult => ({
  ok: true,
  result: { pending: { ...pending, waitMs: Math.max(0, Math.round(pending.waitMs)) } },
});

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The delegations of the daemon: the IPC op, the delegate runs, their ends. */
export class Delegations {
  /** Per open delegation: its time limit. */
  private readonly timers = new Map<string, unknown>();
  /** Per open delegation: who waits for its end (the caller's tool call). */
  private readonly waiters = new Map<string, Array<(d: DelegationRecord) => void>>();
  private accepting = true;
  private readonly onRun = (run: RunRecord) => this.callerEnded(run);

  constructor(private readonly deps: DelegationDeps) {
    deps.bus.on('run', this.onRun);
  }

  /** The `delegate` IPC op, with the authority of the actor's directory. */
  async handle(actor: IpcActor, req: RequestFile): Promise<IpcResult> {
    const { store, config, clock } = this.deps;
    const limits = config.file.delegation;
    const parsed = delegateArgs.safeParse(req.args);
    if (!parsed.success) return fail('invalid_args', parsed.error.issues[0]!.message);
    const args = parsed.data;
    const conv = actor.conversation;
    const callerRun = conv && store.runs.get(conv.runId);
    if (!conv || !callerRun || callerRun.status !== 'running')
      return fail(
        'no_turn',
        'delegate works only from inside a running turn (no live turn of this session asked)',
      );
    if (!this.accepting) return fail('interrupted', 'clawpod is stopping; try again later');
    const checked = checkDelegation(store, limits, actor, conv.runId, args.group);
    if ('ok' in checked) return checked;
    const { target, parent, depth } = checked;
    const asked = args.timeoutS !== undefined ? args.timeoutS * 1000 : limits.timeoutMs;
    const d = {
      id: newDelegationId(),
      callerGroup: actor.group,
      callerRunId: conv.runId,
      callerChat: conv.chat,
      delegateGroup: target.folder,
      depth,
      prompt: args.prompt,
      files: args.files ?? [],
      wait: args.wait,
      timeoutMs: Math.min(asked, limits.maxTimeoutMs),
      billedTo: [actor.group, ...(parent?.billedTo ?? [])],
      createdAt: clock.now(),
    };
    // Recorded before anything is awaited: the fan-out count of a parallel call sees it.
    store.delegations.create(d);
    const log = this.deps.log.child({ group: actor.group, delegation: d.id, to: target.folder });
    try {
      await copyInputs(
        this.handoffLimits(),
        { group: actor.group, files: d.files },
        { group: target.folder, delegation: d.id },
      );
    } catch (err) {
      const message = (err as Error).message;
      this.end(d.id, { status: 'failed', error: message });
      return fail('invalid_files', message);
    }

    const ctx = { group: actor.group, runId: conv.runId, chat: conv.chat };
    const r = this.deps.guard.request(
      { kind: 'delegate', group: target.folder, prompt: d.prompt },
      ctx,
    );
    if (r.verdict === 'deny') {
      this.end(d.id, { status: 'failed', error: r.message });
      return fail('denied', r.message);
    }
    if (r.verdict === 'allow') {
      log.info({ wait: d.wait, depth }, 'delegation started');
      return this.begin(d.id, actor, req.id);
    }
    log.info({ approval: r.approval.id }, 'delegation waits for the owner');
    void r.decided
      .then(async (o) => {
        // Stopping: the question stays open; the next start settles the delegation (recover).
        if (!o.allowed && o.via === 'shutdown') return fail('interrupted', o.message);
        if (!o.allowed) {
          this.end(d.id, { status: 'failed', error: o.message });
          return fail(o.via === 'shutdown' ? 'interrupted' : 'denied', o.message);
        }
        const first = this.begin(d.id, actor, req.id);
        // wait: true answers through waitFor (below) once the delegate is done.
        return d.wait ? undefined : first;
      })
      .then(async (result) => {
        if (result) await this.deps.answerLater(actor.group, req.id, result);
      })
      .catch((err: unknown) => log.error({ err }, 'approved delegation could not start'));
    const approvalWait = r.approval.expiresAt - clock.now();
    return pendingResultFor({
      approval: r.approval.id,
      waitMs: approvalWait + (d.wait ? d.timeoutMs : 0),
      message: `waiting for the owner's approval #${r.approval.id} to delegate to "${target.folder}"`,
    });
  }

  /**
   * Starts an approved delegation: its job in a lane of its own, its time limit armed. With
   * `wait` the first answer is `pending` and the result follows as the final answer; without,
   * the answer is the delegation id.
   */
  private begin(id: string, actor: IpcActor, requestId: string): IpcResult {
    const d = this.deps.store.delegations.get(id)!;
    this.launch(d);
    if (!d.wait)
      return {
        ok: true,
        result: {
          delegation: d.id,
          group: d.delegateGroup,
          status: 'started',
          message: `Group "${d.delegateGroup}" is on it. Its result will arrive in this chat as a message from delegate:${d.delegateGroup} (delegation ${d.id}).`,
        },
      };
    void this.waitFor(d, actor.group, requestId);
    return pendingResultFor({
      delegation: d.id,
      waitMs: d.timeoutMs,
      message: `waiting for group "${d.delegateGroup}" (delegation ${d.id})`,
    });
  }

  /** Queues the delegate run and arms its time limit. */
  private launch(d: DelegationRecord): void {
    this.deps.store.delegations.launched(d.id, this.deps.clock.now());
    const timer = this.deps.clock.setTimeout(
      () =>
        this.end(d.id, {
          status: 'failed',
          error: `timed out after ${seconds(d.timeoutMs)} (timeoutS, default delegation.timeoutMs) and was stopped`,
        }),
      d.timeoutMs,
    );
    this.timers.set(d.id, timer);
    const job: Job = {
      lane: `delegate:${d.id}`,
      key: `delegation:${d.id}`,
      group: d.delegateGroup,
      run: () => this.runDelegate(d.id, `delegate:${d.id}`),
      // runDelegate never throws: a delegate is tried once and its error goes to the caller.
      deadLetter: () => undefined,
    };
    if (!this.deps.queue.enqueue(job))
      this.end(d.id, { status: 'failed', error: 'clawpod is stopping' });
  }

  /**
   * The caller waits for the end, its global slot lent meanwhile (its lane, found by its run),
   * then gets the result as the final answer to its tool call.
   */
  private async waitFor(d: DelegationRecord, group: string, requestId: string): Promise<void> {
    const ended = this.ended(d.id);
    const lane = this.laneOf(d.callerRunId);
    const final = lane ? await this.deps.queue.lend(lane, ended) : await ended;
    await this.deps.answerLater(group, requestId, resultOf(final));
  }

  /** Resolves with the delegation once it has ended (at once when it already has). */
  private ended(id: string): Promise<DelegationRecord> {
    const d = this.deps.store.delegations.get(id)!;
    if (d.status !== 'queued' && d.status !== 'running') return Promise.resolve(d);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** The job: one turn of the delegate group in the delegation's own lane. Never throws. */
  private async runDelegate(id: string, lane: string): Promise<void> {
    const { store, clock } = this.deps;
    const d = store.delegations.get(id);
    if (!d || d.status !== 'queued') return; // ended while it waited (time limit, abandoned)
    const group = store.groups.get(d.delegateGroup);
    if (!group) {
      this.end(id, { status: 'failed', error: `group "${d.delegateGroup}" no longer exists` });
      return;
    }
    const runId = newRunId();
    const started = store.tx(() => {
      if (!store.delegations.start(id, runId)) return false;
      store.runs.start({
        id: runId,
        group: group.folder,
        kind: 'delegate',
        chatId: d.callerChat,
        parentRunId: d.callerRunId,
        billedTo: d.billedTo,
        seqStart: null,
        seqEnd: null,
        attempt: 1,
        now: clock.now(),
      });
      return true;
    });
    if (!started) return;
    emitRun(this.deps.turns, runId);
    const callerTaint = d.callerRunId ? (store.runs.get(d.callerRunId)?.taint ?? []) : [];
    let replies: string[] = [];
    let result: TurnResult;
    try {
      result = await runTurn(this.deps.turns, {
        runId,
        group,
        lane,
        conversation: false,
        prompt: delegatePrompt(d),
        chat: d.callerChat ?? '',
        replyTo: null,
        keyPrefix: `delegate:${id}`,
        typing: false,
        deliver: 'none',
        // What the caller's turn read reaches the delegate through the prompt.
        taint: callerTaint,
        onCommit: (texts) => {
          replies = texts;
        },
      });
    } catch (err) {
      result = { status: 'failed', message: (err as Error).message };
      store.runs.finish(runId, 'error', result.message, clock.now());
      emitRun(this.deps.turns, runId);
    }
    if (result.status !== 'ok' && !this.accepting && !d.wait) {
      // Cut off by the daemon stopping, not failed: it runs again at the next start.
      store.delegations.requeue(id);
      return;
    }
    if (result.status !== 'ok') {
      const why =
        result.status === 'stopped'
          ? 'its run was stopped'
          : result.status === 'skipped'
            ? `not run: ${result.message}`
            : result.message;
      this.end(id, { status: 'failed', error: why });
      return;
    }
    let handoff: HandoffEntry[];
    try {
      const copy = await collectOutputs(
        this.handoffLimits(),
        { group: group.folder, delegation: id },
        { group: d.callerGroup },
      );
      handoff = [
        ...copy.files.map((f) => ({ path: f.path, bytes: f.bytes })),
        ...copy.skipped.map((s) => ({ path: s.path, skipped: s.reason })),
      ];
    } catch (err) {
      handoff = [{ path: `/workspace/group/${handoffRel(id)}`, skipped: (err as Error).message }];
    }
    this.end(id, { status: 'ok', reply: replies.join('\n\n'), handoff });
  }

  /**
   * Ends an open delegation once (a later end is a no-op): records it; a `wait: false` result
   * goes into the caller's chat in the same transaction and wakes it; a live delegate run that
   * is no longer wanted is stopped; whoever waits is answered.
   */
  private end(
    id: string,
    end: { status: Ended; reply?: string; handoff?: HandoffEntry[]; error?: string },
  ): boolean {
    const { store, clock } = this.deps;
    let delivered: { group: string; chat: string; seq: number } | undefined;
    const won = store.tx(() => {
      if (!store.delegations.finish(id, end, clock.now())) return false;
      const d = store.delegations.get(id)!;
      if (!d.wait && d.callerChat && end.status !== 'abandoned') {
        const res = store.messages.insert({
          chatId: d.callerChat,
          platformId: `delegation:${id}`,
          sender: `delegate:${d.delegateGroup}`,
          senderName: `delegate ${d.delegateGroup}`,
          text: resultMessage(d),
          ts: clock.now(),
          wakes: true,
        });
        if (res.inserted) {
          store.cursors.ensure(d.callerChat, res.seq);
          delivered = { group: d.callerGroup, chat: d.callerChat, seq: res.seq };
        }
      }
      return true;
    });
    if (!won) return false;
    const d = store.delegations.get(id)!;
    const timer = this.timers.get(id);
    if (timer !== undefined) this.deps.clock.clearTimeout(timer);
    this.timers.delete(id);
    if (end.status !== 'ok' && d.runId) {
      const run = store.runs.get(d.runId);
      if (run?.status === 'running') this.deps.turns.pool.stopRun(d.runId, end.error ?? 'ended');
    }
    this.deps.log.info(
      { delegation: id, group: d.callerGroup, to: d.delegateGroup, status: d.status, err: d.error },
      'delegation ended',
    );
    for (const w of this.waiters.get(id) ?? []) w(d);
    this.waiters.delete(id);
    if (delivered) {
      const stored = store.messages.get(delivered.seq);
      if (stored) this.deps.bus.emit('message', stored);
      this.deps.wake(delivered.group, delivered.chat);
    }
    return true;
  }

  /** A caller's run ended: the delegations it still waits for are abandoned (and stopped). */
  private callerEnded(run: RunRecord): void {
    if (run.status === 'running') return;
    for (const d of this.deps.store.delegations.byCaller(run.id)) {
      if (!d.wait || (d.status !== 'queued' && d.status !== 'running')) continue;
      this.end(d.id, {
        status: 'abandoned',
        error: `its caller's run ${run.id} ended (${run.status}) before it finished`,
      });
    }
  }

  /**
   * After a restart: a `wait: false` delegation the guard had let go runs again from the start
   * (its result is owed to a chat); one still waiting for the owner's approval fails (told in
   * the chat: delegate again); one a caller waited for is abandoned (that turn re-runs itself).
   */
  recover(): number {
    const { store } = this.deps;
    let resumed = 0;
    for (const d of store.delegations.open()) {
      if (d.wait) {
        this.end(d.id, { status: 'abandoned', error: 'clawpod restarted while its caller waited' });
        continue;
      }
      if (d.launchedAt === null) {
        // The owner was being asked when clawpod stopped: never run unapproved; ask again.
        this.end(d.id, {
          status: 'failed',
          error: 'clawpod restarted before the owner answered its approval; delegate again',
        });
        continue;
      }
      store.delegations.requeue(d.id);
      this.launch(store.delegations.get(d.id)!);
      resumed++;
    }
    return resumed;
  }

  /**
   * Shutdown: no new delegations; callers waiting on one are answered now (abandoned) so no
   * turn hangs on a job the stopping queue will not start. `wait: false` ones stay open for the
   * next start.
   */
  stop(): void {
    this.accepting = false;
    this.deps.bus.off('run', this.onRun);
    for (const d of this.deps.store.delegations.open()) {
      if (d.wait) this.end(d.id, { status: 'abandoned', error: 'clawpod is stopping' });
    }
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  private handoffLimits(): HandoffLimits {
    const { config } = this.deps;
    return {
      groupsDir: config.paths.groups,
      maxFiles: config.file.delegation.handoffMaxFiles,
      maxBytes: config.file.delegation.handoffMaxBytes,
    };
  }

  /** The lane of the live session answering `runId` (the caller's). */
  private laneOf(runId: string | null): string | undefined {
    if (!runId) return undefined;
    for (const s of this.deps.turns.pool.list())
      if (s.state.name === 'busy' && s.state.turn.context.runId === runId) return s.meta.lane;
    return undefined;
  }
}
