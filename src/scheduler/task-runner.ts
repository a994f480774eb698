import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { EventBus } from '../events/bus.js';
import type { Group } from '../groups/group-schema.js';
import type { WorkItem } from '../queue/group-queue.js';
import { runAgentJob, type AgentJobDeps, type AgentJobOutcome } from '../runs/agent-job.js';
import { newRunId } from '../runs/run-executor.js';
import type { Usage } from '../store/runs.js';
import type { Store } from '../store/store.js';
import { TaskRunStore, type TaskRunRecord } from '../store/task-runs.js';
import { TaskStore, type TaskRecord } from '../store/tasks.js';
import { chatFailedNotice, failedNotice, pausedNotice, taskPrompt } from './task-text.js';

/** Consecutive final failures after which a task is paused (with a notice). */
export const MAX_CONSECUTIVE_FAILURES = 3;

/**
 * A script run before the model call (in the sandbox, provided by the sandbox layer).
 * `{wake: false}` skips the model call and records the occurrence as skipped.
 */
export type PreCheckHook = (
  task: TaskRecord,
  group: Group,
) => Promise<{ wake: boolean; detail?: string }>;

/** The lease side of the Scheduler, as the run path needs it. */
export interface LeaseHolder {
  readonly owner: string;
  /** Extends the task's lease; false when this instance no longer holds it. */
  renew(taskId: string): boolean;
  finished(taskId: string): void;
}

export interface TaskRunnerOptions {
  config: Config;
  store: Store;
  /** The RunExecutor: shared job parts, and run-row bookkeeping that throws to retry. */
  executor: { jobDeps(): AgentJobDeps; finishRun(runId: string, outcome: AgentJobOutcome): void };
  outbox: Pick<OutboxWorker, 'enqueue' | 'notifyOwner' | 'kick'>;
  bus: EventBus;
  log: Logger;
  leases: LeaseHolder;
  preCheck?: PreCheckHook;
  now?: () => number;
}

/** `task:<id>:<scheduledFor>` → its parts (ids never contain ':'). */
export function parseTaskKey(item: WorkItem): { taskId: string; scheduledFor: number } | undefined {
  const m = /^task:([^:]+):(\d+)$/.exec(item.key);
  return m ? { taskId: item.taskId ?? m[1]!, scheduledFor: Number(m[2]) } : undefined;
}

/**
 * Runs claimed task occurrences through the same agent path as messages (runAgentJob):
 * output to the task's chat, `group` context in the group's session, `isolated` in a fresh
 * one. Each attempt is a `runs` row of kind task; the occurrence's task_runs row carries the
 * outcome. A failed attempt throws (the queue retries); after the last one `deadLetter`
 * records it, tells the owner (main and the task's chat) and pauses the task after
 * MAX_CONSECUTIVE_FAILURES in a row. A success resets the count.
 */
export class TaskRunner {
  private readonly tasks: TaskStore;
  private readonly runs: TaskRunStore;
  private readonly now: () => number;
  /** Occurrences whose latest attempt hit the run timeout. */
  private readonly timedOut = new Set<string>();

  constructor(private readonly opts: TaskRunnerOptions) {
    this.tasks = new TaskStore(opts.store.db);
    this.runs = new TaskRunStore(opts.store.db);
    this.now = opts.now ?? Date.now;
  }

  /** The executor's `taskWork` hook. */
  async work(item: WorkItem, attempt: number): Promise<void> {
    const found = this.open(item);
    if (!found) return;
    const { task, run } = found;
    const { store, leases } = this.opts;
    const log = this.opts.log.child({ group: task.group, task: task.id });
    if (task.leaseOwner !== leases.owner || !leases.renew(task.id)) {
      log.warn(
        { owner: task.leaseOwner },
        'lease held by another instance; not running this occurrence',
      );
      return;
    }
    const stopped = task.status === 'paused' || task.status === 'cancelled';
    if (stopped && run.status === 'pending' && run.trigger !== 'manual') {
      const why = `not run: the task was ${task.status} before this occurrence started`;
      this.runs.finish(run.id, { status: 'skipped', now: this.now(), error: why });
      log.info(why);
      return leases.finished(task.id);
    }
    const group = store.groups.get(task.group);
    const chat = task.chatJid ?? group?.chats[0];
    if (!group || !chat) {
      const why = group
        ? `group "${task.group}" has no chat to send the task's output to`
        : `group "${task.group}" no longer exists`;
      return this.finalFailure(task, run, attempt, why, { chatTold: false, usage: undefined });
    }
    if (task.preCheck) {
      if (!this.opts.preCheck) {
        const why =
          'this task has a pre-check script, and this clawpod build has no sandbox runtime to run it in';
        return this.finalFailure(task, run, attempt, why, { chatTold: false, usage: undefined });
      }
      const check = await this.opts.preCheck(task, group);
      if (!check.wake) {
        this.runs.finish(run.id, {
          status: 'skipped',
          now: this.now(),
          result: check.detail ?? null,
        });
        log.info('pre-check said not to wake the agent; skipped');
        return leases.finished(task.id);
      }
    }

    const runId = newRunId();
    store.tx(() => {
      store.runs.start({
        id: runId,
        group: task.group,
        kind: 'task',
        taskId: task.id,
        chatJid: chat,
        seqStart: null,
        seqEnd: null,
        attempt,
        now: this.now(),
      });
      this.runs.markRunning(run.id, runId, this.now());
    });
    this.emitRun(runId);
    const keyPrefix = item.key;
    const started = Date.now();
    const outcome = await runAgentJob(this.opts.executor.jobDeps(), {
      runId,
      group,
      chatJid: chat,
      prompt: taskPrompt(task, {
        scheduledFor: run.scheduledFor,
        trigger: run.trigger,
        chatJid: chat,
      }),
      useGroupSession: task.contextMode === 'group',
      keyPrefix,
      onCommit: () => undefined,
    });
    const usage = store.runs.get(runId)?.usage;
    if (outcome.status === 'ok') {
      store.tx(() => {
        this.runs.finish(run.id, {
          status: 'ok',
          now: this.now(),
          result: this.runs.firstReply(keyPrefix),
          usage,
        });
        if (task.consecutiveFailures > 0) {
          this.tasks.update(task.id, { consecutiveFailures: 0 }, this.now());
        }
      });
      this.timedOut.delete(item.key);
      this.opts.executor.finishRun(runId, outcome);
      log.info({ run: runId }, 'task run finished');
      return leases.finished(task.id);
    }
    if (outcome.status === 'refused') {
      this.opts.executor.finishRun(runId, outcome);
      return this.finalFailure(task, run, attempt, outcome.message, { chatTold: true, usage });
    }
    const timeoutMs = group.limits.runTimeoutMs ?? this.opts.config.file.limits.runTimeoutMs;
    if (Date.now() - started >= timeoutMs || /\btime ?out\b/i.test(outcome.message)) {
      this.timedOut.add(item.key);
    } else {
      this.timedOut.delete(item.key);
    }
    this.runs.noteAttemptError(run.id, outcome.message);
    log.warn({ run: runId, attempt, err: outcome.message }, 'task run failed');
    this.opts.executor.finishRun(runId, outcome); // throws: the queue retries or dead-letters
  }

  /** The executor's dead-letter hook for task items: every attempt failed. */
  deadLetter(item: WorkItem, error: Error, attempts: number): void {
    const found = this.open(item);
    if (!found) return;
    const usage = found.run.runId ? this.opts.store.runs.get(found.run.runId)?.usage : undefined;
    this.finalFailure(found.task, found.run, attempts, error.message, { chatTold: false, usage });
  }

  /** The task and its open occurrence for a work item, or undefined when already resolved. */
  private open(item: WorkItem): { task: TaskRecord; run: TaskRunRecord } | undefined {
    const key = parseTaskKey(item);
    const task = key && this.tasks.get(key.taskId);
    const run = key && task && this.runs.byOccurrence(key.taskId, key.scheduledFor);
    if (!task || !run || (run.status !== 'pending' && run.status !== 'running')) {
      this.opts.log.info({ key: item.key }, 'task occurrence no longer open; nothing to run');
      return undefined;
    }
    return { task, run };
  }

  private finalFailure(
    task: TaskRecord,
    run: TaskRunRecord,
    attempts: number,
    message: string,
    how: { chatTold: boolean; usage: Usage | undefined },
  ): void {
    const { store, outbox } = this.opts;
    const key = `task:${task.id}:${run.scheduledFor}`;
    const timedOut = this.timedOut.delete(key);
    const now = this.now();
    const chat = task.chatJid ?? store.groups.get(task.group)?.chats[0] ?? null;
    const ownerChat = store.groups.main()?.chats[0];
    const tellChat = chat !== null && chat !== ownerChat;
    let failures = 0;
    let paused = false;
    store.tx(() => {
      this.runs.finish(run.id, {
        status: timedOut ? 'timeout' : 'error',
        now,
        error: message,
        usage: how.usage,
      });
      failures = this.tasks.addFailure(task.id, now);
      if (failures >= MAX_CONSECUTIVE_FAILURES && this.tasks.get(task.id)?.status === 'active') {
        this.tasks.update(task.id, { status: 'paused' }, now);
        paused = true;
      }
      store.deadLetters.add({
        kind: 'run',
        group: task.group,
        chatJid: chat,
        ref: run.runId ?? key,
        seqStart: null,
        seqEnd: null,
        error: message,
        createdAt: now,
      });
      if (tellChat && !how.chatTold) {
        outbox.enqueue({
          key: `taskfail:${key}`,
          chatJid: chat,
          text: chatFailedNotice(task, message),
        });
      }
      if (tellChat && paused) {
        outbox.enqueue({
          key: `taskpause:${key}`,
          chatJid: chat,
          text: pausedNotice(task, failures),
        });
      }
    });
    outbox.notifyOwner(`taskfail:${key}`, failedNotice(task, attempts, message));
    if (paused) outbox.notifyOwner(`taskpause:${key}`, pausedNotice(task, failures));
    outbox.kick();
    this.opts.log.error(
      {
        group: task.group,
        task: task.id,
        run: run.runId,
        attempts,
        failures,
        paused,
        err: message,
      },
      'task occurrence failed',
    );
    this.opts.leases.finished(task.id);
  }

  private emitRun(runId: string): void {
    const run = this.opts.store.runs.get(runId);
    if (run) this.opts.bus.emit('run', run);
  }
}
