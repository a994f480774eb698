import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { MAX_TIMER_MS, systemClock, type Clock } from '../clock.js';
import { TaskError } from '../schedule/errors.js';
import { DEFAULT_GRACE_MS } from '../schedule/missed-policy.js';
import type { Store } from '../store/store.js';
import type { TaskRunStore } from '../store/task-runs.js';
import type { TaskRecord, TaskStore } from '../store/tasks.js';
import {
  applyClaim,
  applyManualClaim,
  expireDeadLocalLeases,
  missedSummary,
  processAlive,
  type ClaimContext,
  type MissedSummaryLine,
} from './claim.js';

/** A claimed occurrence of a task, as the scheduler hands it to the queue. */
export interface TaskOccurrence {
  readonly kind: 'task';
  readonly group: string;
  /** `group` context shares the group's conversation lane; `isolated` has a lane of its own. */
  readonly lane: string;
  readonly key: string;
  readonly taskId: string;
  readonly scheduledFor: number;
}

/** The lane and key of a task occurrence. */
export function taskOccurrence(task: TaskRecord, scheduledFor: number): TaskOccurrence {
  return {
    kind: 'task',
    group: task.group,
    lane: task.contextMode === 'isolated' ? `${task.group}#task:${task.id}` : task.group,
    key: `task:${task.id}:${scheduledFor}`,
    taskId: task.id,
    scheduledFor,
  };
}

export interface SchedulerOptions {
  store: Store;
  /** Where claimed occurrences go (the daemon queues a TaskJob). False: not accepted (stopping). */
  enqueue(occurrence: TaskOccurrence): boolean;
  /** Owner notices (the daemon's OutboxWorker). */
  notifyOwner(key: string, text: string): void;
  log: Logger;
  clock?: Clock;
  /** This daemon's lease owner id; default `<host>:<pid>:<random>`. Unique per process. */
  instanceId?: string;
  /** How long a lease holds without renewal (renewed every third of it while held). */
  leaseTtlMs?: number;
  /** A due time at most this late is run on time, not "missed" (see schedule/missed-policy.ts). */
  graceMs?: number;
  /**
   * The timer never sleeps longer than this, so a wall-clock jump or a suspended machine is
   * noticed within it after wake-up (setTimeout follows a monotonic clock, not wall time).
   */
  maxSleepMs?: number;
  /** Whether a pid on this host is alive (leases of dead local processes expire at start). */
  isProcessAlive?(pid: number): boolean;
}

type SchedulerState = 'created' | 'running' | 'stopping' | 'stopped';

export const DEFAULT_LEASE_TTL_MS = 120_000;
export const DEFAULT_MAX_SLEEP_MS = 60_000;
const BATCH = 500;

/**
 * The timer loop. One timer is armed for the earliest of: the next due task, the next lease of
 * another instance to expire, and this instance's lease heartbeat — one index probe each.
 * A due task is claimed in one transaction (compare-and-swap on the row, see TaskStore.claim):
 * lease written and next_run_at advanced (or the once task completed) BEFORE the occurrence is
 * queued, so neither a restart nor a second daemon on the same database fires it twice.
 * Missed occurrences (down, asleep, late) are resolved by the task's missed policy
 * (planClaim), recorded as task_runs `missed`, and summarised to the owner once per start
 * (or wake-up).
 * It is the TaskService's engine (changed, runNow) and the TaskJob's lease holder (renew,
 * finished); tasks/scheduling.ts wires it to both.
 */
export class Scheduler {
  readonly instanceId: string;
  private readonly tasks: TaskStore;
  private readonly runs: TaskRunStore;
  private readonly clock: Clock;
  private readonly leaseTtlMs: number;
  private readonly graceMs: number;
  private readonly maxSleepMs: number;
  private state: SchedulerState = 'created';
  private timer: unknown;
  private armedFor = 0;
  /** Tasks whose lease this instance holds. */
  private readonly held = new Set<string>();
  private lastRenewAt = 0;
  private readonly claimContext: ClaimContext;

  constructor(private readonly opts: SchedulerOptions) {
    this.instanceId =
      opts.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.tasks = opts.store.tasks;
    this.runs = opts.store.taskRuns;
    this.clock = opts.clock ?? systemClock;
    this.leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.maxSleepMs = Math.min(opts.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS, MAX_TIMER_MS);
    this.claimContext = {
      tasks: this.tasks,
      runs: this.runs,
      owner: this.instanceId,
      leaseTtlMs: this.leaseTtlMs,
      graceMs: this.graceMs,
      log: opts.log,
    };
  }

  /** The lease owner id (for the run path). */
  get owner(): string {
    return this.instanceId;
  }

  /** When the timer is armed to fire (wall-clock ms); 0 when not armed. */
  get nextWakeAt(): number {
    return this.timer === undefined ? 0 : this.armedFor;
  }

  /**
   * Resolves what the last stop left behind (expired leases, missed occurrences: one summary
   * notice), queues what is due, and arms the timer.
   */
  start(): void {
    if (this.state !== 'created') throw new Error(`cannot start a scheduler that is ${this.state}`);
    this.state = 'running';
    expireDeadLocalLeases(
      this.tasks,
      this.instanceId,
      this.clock.now(),
      this.opts.isProcessAlive ?? processAlive,
      this.opts.log,
    );
    this.sweep(this.clock.now(), 'start');
  }

  /** Stops the timer (no new claims). Runs in progress still report through `finished`. */
  stop(): void {
    if (this.state === 'running') this.state = 'stopping';
    this.disarm();
  }

  /**
   * After the queue drained: hands back the leases of occurrences that did not finish (they
   * expire now), so the next start resolves them at once by their missed policy.
   */
  close(): void {
    this.stop();
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.held.size) {
      const n = this.tasks.expireLeases(this.instanceId, this.clock.now());
      this.opts.log.warn(
        { tasks: n },
        'task runs unfinished at stop; the next start resolves them',
      );
    }
    this.held.clear();
  }

  /** A task changed (TaskService): re-read the earliest due time. */
  changed(): void {
    if (this.state === 'running') this.arm();
  }

  /** Claims an extra, manual occurrence of a task at "now" and queues it. */
  runNow(taskId: string): { taskRunId: number; scheduledFor: number } {
    if (this.state !== 'running') {
      throw new TaskError('unavailable', 'the scheduler is not running (the daemon is stopping)');
    }
    const now = this.clock.now();
    const claimed = this.opts.store.txImmediate(() =>
      applyManualClaim(this.claimContext, taskId, now),
    );
    this.hold(claimed.task.id, now);
    this.enqueue(claimed.task, claimed.run.scheduledFor);
    this.arm();
    return { taskRunId: claimed.run.id, scheduledFor: claimed.run.scheduledFor };
  }

  /**
   * A run attempt of `task` (as just read) starts: false if its lease is no longer ours. A lease
   * taken or renewed within the last heartbeat period is left as it is (the heartbeat keeps it
   * while held), so a run started on time costs no write; an older one is extended.
   */
  renew(task: TaskRecord): boolean {
    if (task.leaseOwner !== this.instanceId) return false;
    const now = this.clock.now();
    const fresh = (task.leaseExpiresAt ?? 0) - now > this.leaseTtlMs - this.leaseTtlMs / 3;
    return fresh || this.tasks.renewLease(task.id, this.instanceId, now + this.leaseTtlMs);
  }

  /**
   * Inside the transaction that ends an occurrence of `taskId`: drops the lease when no
   * occurrence is left open, so the release commits with the end. True when none is open.
   */
  release(taskId: string): boolean {
    if (this.runs.open(taskId).length > 0) return false;
    this.tasks.releaseLease(taskId, this.instanceId); // no write when already released
    return true;
  }

  /** An occurrence of `taskId` ended (committed): drop the lease when none is left open, re-arm. */
  finished(taskId: string): void {
    if (this.release(taskId)) this.held.delete(taskId);
    if (this.state === 'running') this.arm();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state !== 'running') return;
    const now = this.clock.now();
    const lateBy = now - this.armedFor;
    let cause: 'wake' | undefined;
    if (lateBy > this.graceMs) {
      cause = 'wake';
      this.opts.log.warn(
        { lateByMs: lateBy },
        'scheduler timer fired late: the host slept or its clock jumped forward',
      );
    } else if (lateBy < -1000) {
      this.opts.log.warn(
        { earlyByMs: -lateBy },
        'scheduler timer fired early: the clock jumped back',
      );
    }
    try {
      this.sweep(now, cause);
    } catch (err) {
      // e.g. SQLITE_BUSY past the busy timeout while another process writes: try again soon.
      this.opts.log.error({ err }, 'scheduler sweep failed; retrying in 1 s');
      if (this.state === 'running') {
        this.armedFor = now + 1000;
        this.timer = this.clock.setTimeout(() => this.onTimer(), 1000);
      }
    }
  }

  /** Heartbeat, expired leases, due tasks; then queue what was claimed and re-arm. */
  private sweep(now: number, cause: 'start' | 'wake' | undefined): void {
    const claimed: Array<{ task: TaskRecord; scheduledFor: number }> = [];
    const missed: MissedSummaryLine[] = [];
    if (this.held.size && now - this.lastRenewAt >= this.leaseTtlMs / 3) {
      this.tasks.renewLeases(this.instanceId, now + this.leaseTtlMs); // heartbeat
      this.lastRenewAt = now;
    }
    const seen = new Set<string>();
    for (const leaseExpired of [true, false]) {
      // One index probe first: a write transaction only when something is due.
      const first = leaseExpired
        ? this.tasks.earliestForeignLeaseExpiry(this.instanceId)
        : this.tasks.earliestDue();
      if (first === undefined || first > now) continue;
      for (;;) {
        // With the writes queued meanwhile (runs, sessions): one fsync for all of them.
        const batch = this.opts.store.commitNow(() => {
          const rows = leaseExpired
            ? this.tasks.expiredLeases(this.instanceId, now, BATCH)
            : this.tasks.due(now, BATCH);
          const fresh = rows.filter((t) => !seen.has(t.id));
          for (const t of fresh) {
            seen.add(t.id);
            this.claimSafely(t, now, leaseExpired, claimed, missed);
          }
          return fresh.length;
        });
        if (batch === 0) break;
      }
    }
    for (const c of claimed) this.enqueue(c.task, c.scheduledFor);
    if (missed.length) {
      const total = missed.reduce((n, l) => n + l.missed, 0);
      this.opts.log.warn({ tasks: missed.length, missed: total, cause }, 'scheduled runs missed');
      if (cause)
        this.opts.notifyOwner(`missed:${this.instanceId}:${now}`, missedSummary(missed, cause));
    }
    this.arm();
  }

  /** One claim in its own savepoint: a corrupt task is paused and reported, not retried forever. */
  private claimSafely(
    task: TaskRecord,
    now: number,
    leaseExpired: boolean,
    claimed: Array<{ task: TaskRecord; scheduledFor: number }>,
    missed: MissedSummaryLine[],
  ): void {
    try {
      const outcome = this.opts.store.tx(() =>
        applyClaim(this.claimContext, task, now, leaseExpired),
      );
      if (!outcome) return;
      for (const at of outcome.run) claimed.push({ task: outcome.task, scheduledFor: at });
      if (outcome.holds) this.hold(task.id, now);
      else this.held.delete(task.id);
      if (outcome.missed > 0)
        missed.push({ task, missed: outcome.missed, ran: outcome.run.length });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.opts.log.error(
        { group: task.group, task: task.id, err: message },
        'task cannot be scheduled; pausing it',
      );
      this.tasks.update(task.id, { status: 'paused' }, now);
      this.tasks.releaseLease(task.id, task.leaseOwner ?? '');
      this.opts.notifyOwner(
        `unschedulable:${task.id}:${now}`,
        `⚠️ Task ${task.id} in group "${task.group}" could not be scheduled and was paused: ${message}`,
      );
    }
  }

  private hold(taskId: string, now: number): void {
    if (this.held.size === 0) this.lastRenewAt = now;
    this.held.add(taskId);
  }

  private enqueue(task: TaskRecord, scheduledFor: number): void {
    if (!this.opts.enqueue(taskOccurrence(task, scheduledFor))) {
      this.opts.log.info(
        { group: task.group, task: task.id, scheduledFor },
        'queue closed; the occurrence is resolved at the next start',
      );
    }
  }

  private arm(): void {
    if (this.state !== 'running') return;
    this.disarm();
    const now = this.clock.now();
    let target = now + this.maxSleepMs;
    const due = this.tasks.earliestDue();
    if (due !== undefined) target = Math.min(target, due);
    const lease = this.tasks.earliestForeignLeaseExpiry(this.instanceId);
    if (lease !== undefined) target = Math.min(target, lease);
    if (this.held.size) target = Math.min(target, this.lastRenewAt + this.leaseTtlMs / 3);
    const delay = Math.max(0, Math.min(target - now, this.maxSleepMs));
    this.armedFor = now + delay;
    this.timer = this.clock.setTimeout(() => this.onTimer(), delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
