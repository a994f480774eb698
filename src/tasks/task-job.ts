import type { Group } from '../store/group-schema.js';
import type { GroupQueue } from '../queue/group-queue.js';
import type { Job } from '../queue/job.js';
import { newRunId } from '../runs/message-job.js';
import { emitRun, runTurn, STOPPED_BY_OWNER, type TurnDeps } from '../runs/turn.js';
import type { TaskOccurrence } from '../scheduler/scheduler.js';
import type { TaskRunRecord, TaskRunStore } from '../store/task-runs.js';
import type { TaskRecord, TaskStore } from '../store/tasks.js';
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
  /** A run attempt starts (`task` as just read): false when this instance no longer holds it. */
  renew(task: TaskRecord): boolean;
  /**
   * Inside the transaction that ends an occurrence: drops the lease when none is left open, so
   * the release commits with the end (no commit of its own).
   */
  release(taskId: string): void;
  /** An occurrence ended (committed): drop the lease when none is left open, re-arm the timer. */
  finished(taskId: string): void;
}

export interface TaskJobDeps extends TurnDeps {
  leases: LeaseHolder;
  /** The queue running the job: its slot is released once the agent answered. */
  queue: Pick<GroupQueue, 'release'>;
  preCheck?: PreCheckHook;
}

/**
 * One occurrence of a task, run through the same turn path as a message: output to the task's
 * chat, `group` context in the group's conversation session (a live one takes it between the
 * chat's turns), `isolated` in a fresh session of its own lane. Each attempt is a `runs` row;
 * the occurrence's task_runs row carries the outcome and is committed with the replies and the
 * lease's release (one commit), so the next fire time never waits on a session.
 * A failed attempt throws (the queue retries); after the last one `deadLetter` records it,
 * tells the owner (main and the task's chat) and pauses the task after
 * MAX_CONSECUTIVE_FAILURES in a row. A success resets the count.
 */
export class TaskJob implements Job {
  readonly kind = 'task';
  readonly group: string;
  readonly lane: string;
  readonly key: string;
  readonly taskId: string;
  readonly scheduledFor: number;
  private readonly tasks: TaskStore;
  private readonly taskRuns: TaskRunStore;
  /** The latest attempt hit the run time limit. */
  private timedOut = false;
  private lastRunId: string | null = null;

  constructor(
    private readonly deps: TaskJobDeps,
    occurrence: TaskOccurrence,
  ) {
    ({
      group: this.group,
      lane: this.lane,
      key: this.key,
      taskId: this.taskId,
      scheduledFor: this.scheduledFor,
    } = occurrence);
    this.tasks = deps.store.tasks;
    this.taskRuns = deps.store.taskRuns;
  }

  async run(attempt: number): Promise<void> {
    const found = this.open();
    if (!found) return;
    const { task, run } = found;
    const { store, leases, clock } = this.deps;
    const log = this.deps.log.child({ group: task.group, task: task.id });
    if (!leases.renew(task)) {
      log.warn(
        { owner: task.leaseOwner },
        'lease held by another instance; not running this occurrence',
      );
      return;
    }
    const stopped = task.status === 'paused' || task.status === 'cancelled';
    if (stopped && run.status === 'pending' && run.trigger !== 'manual') {
      const why = `not run: the task was ${task.status} before this occurrence started`;
      this.end(run.id, { status: 'skipped', now: clock.now(), error: why });
      log.info(why);
      return leases.finished(task.id);
    }
    const group = store.groups.get(task.group);
    const chat = task.chatId ?? group?.chats[0];
    if (!group || !chat) {
      const why = group
        ? `group "${task.group}" has no chat to send the task's output to`
        : `group "${task.group}" no longer exists`;
      return this.finalFailure(task, run, attempt, why, false);
    }
    if (task.preCheck) {
      if (!this.deps.preCheck) {
        const why =
          'this task has a pre-check script, and this clawpod build has no sandbox runtime to run it in';
        return this.finalFailure(task, run, attempt, why, false);
      }
      const check = await this.deps.preCheck(task, group);
      if (!check.wake) {
        this.end(run.id, { status: 'skipped', now: clock.now(), result: check.detail ?? null });
        log.info('pre-check said not to wake the agent; skipped');
        return leases.finished(task.id);
      }
    }

    const runId = newRunId();
    this.lastRunId = runId;
    // Durable before the agent starts; runs starting together share one fsync (group commit).
    await store.commit(() => {
      store.runs.start({
        id: runId,
        group: task.group,
        kind: 'task',
        taskId: task.id,
        chatId: chat,
        seqStart: null,
        seqEnd: null,
        attempt,
        now: clock.now(),
      });
      this.taskRuns.markRunning(run.id, runId, clock.now());
    });
    emitRun(this.deps, runId);
    const result = await runTurn(this.deps, {
      runId,
      group,
      lane: this.lane,
      conversation: task.contextMode === 'group',
      prompt: taskPrompt(task, {
        scheduledFor: run.scheduledFor,
        trigger: run.trigger,
        chatId: chat,
      }),
      chat,
      replyTo: null,
      keyPrefix: this.key,
      typing: false,
      onAnswered: () => this.deps.queue.release(this.lane),
      taskId: task.id,
      onSkip: (reason) => this.end(run.id, { status: 'skipped', now: clock.now(), error: reason }),
      onCommit: (replies) => {
        const usage = store.runs.get(runId)?.usage;
        this.end(run.id, { status: 'ok', now: clock.now(), result: replies[0] ?? null, usage });
        if (task.consecutiveFailures > 0)
          this.tasks.update(task.id, { consecutiveFailures: 0 }, clock.now());
      },
      // Stopped by the owner: the occurrence ends as an error saying so, not counted as a failure.
      onStop: () =>
        this.end(run.id, {
          status: 'error',
          now: clock.now(),
          error: STOPPED_BY_OWNER,
          usage: store.runs.get(runId)?.usage,
        }),
    });
    if (result.status === 'ok' || result.status === 'stopped' || result.status === 'skipped') {
      log.info({ run: runId, status: result.status }, 'task run ended');
      return leases.finished(task.id);
    }
    if (result.status === 'refused')
      return this.finalFailure(task, run, attempt, result.message, true);
    this.timedOut = /time limit/.test(result.message);
    this.taskRuns.noteAttemptError(run.id, result.message);
    throw new Error(result.message); // the queue retries or dead-letters
  }

  /** Every attempt failed: the last attempt's run is dead, the occurrence failed. */
  deadLetter(error: Error, attempts: number): void {
    if (this.lastRunId)
      this.deps.store.runs.finish(this.lastRunId, 'dead', error.message, this.deps.clock.now());
    const found = this.open();
    if (found) this.finalFailure(found.task, found.run, attempts, error.message, false);
  }

  /**
   * Ends the occurrence and, when none of the task's is left open, releases its lease in the
   * same transaction (the caller's, or one of its own): one commit, not two.
   */
  private end(id: number, f: Parameters<TaskRunStore['finish']>[1]): void {
    this.deps.store.tx(() => {
      this.taskRuns.finish(id, f);
      this.deps.leases.release(this.taskId);
    });
  }

  /** The task and its open occurrence, or undefined when already resolved. */
  private open(): { task: TaskRecord; run: TaskRunRecord } | undefined {
    const task = this.tasks.get(this.taskId);
    const run = task && this.taskRuns.byOccurrence(this.taskId, this.scheduledFor);
    if (!task || !run || (run.status !== 'pending' && run.status !== 'running')) {
      this.deps.log.info(
        { task: this.taskId, key: this.key },
        'task occurrence no longer open; nothing to run',
      );
      return undefined;
    }
    return { task, run };
  }

  private finalFailure(
    task: TaskRecord,
    run: TaskRunRecord,
    attempts: number,
    message: string,
    chatTold: boolean,
  ): void {
    const { store, outbox, clock } = this.deps;
    const now = clock.now();
    const chat = task.chatId ?? store.groups.get(task.group)?.chats[0] ?? null;
    const tellChat = chat !== null && chat !== outbox.ownerChat();
    const usage = run.runId ? store.runs.get(run.runId)?.usage : undefined;
    let failures = 0;
    let paused = false;
    store.tx(() => {
      this.end(run.id, { status: this.timedOut ? 'timeout' : 'error', now, error: message, usage });
      failures = this.tasks.addFailure(task.id, now);
      if (failures >= MAX_CONSECUTIVE_FAILURES && this.tasks.get(task.id)?.status === 'active') {
        this.tasks.update(task.id, { status: 'paused' }, now);
        paused = true;
      }
      store.deadLetters.add({
        kind: 'run',
        group: task.group,
        chatId: chat,
        ref: run.runId ?? this.key,
        seqStart: null,
        seqEnd: null,
        error: message,
        createdAt: now,
      });
      if (tellChat && !chatTold)
        outbox.enqueue({
          key: `taskfail:${this.key}`,
          chatId: chat,
          text: chatFailedNotice(task, message),
        });
      if (tellChat && paused)
        outbox.enqueue({
          key: `taskpause:${this.key}`,
          chatId: chat,
          text: pausedNotice(task, failures),
        });
    });
    if (this.lastRunId) emitRun(this.deps, this.lastRunId);
    outbox.notifyOwner(`taskfail:${this.key}`, failedNotice(task, attempts, message));
    if (paused) outbox.notifyOwner(`taskpause:${this.key}`, pausedNotice(task, failures));
    outbox.kick();
    this.deps.log.error(
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
    this.deps.leases.finished(task.id);
  }
}
