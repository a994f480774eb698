import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { TaskRunStore } from '../store/task-runs.js';
import type { TaskRecord, TaskStore } from '../store/tasks.js';
import { planClaim } from './claim-plan.js';
import { TaskError } from './task-errors.js';

export interface ClaimContext {
  tasks: TaskStore;
  runs: TaskRunStore;
  /** This instance's lease owner id. */
  owner: string;
  leaseTtlMs: number;
  graceMs: number;
  log: Logger;
}

export interface ClaimOutcome {
  /** The task as it stands after the claim (status may now be completed). */
  task: TaskRecord;
  /** Occurrences to queue now, ascending (each has a pending task_runs row). */
  run: number[];
  /** Occurrences recorded missed by this claim (interrupted ones included). */
  missed: number;
  /** True when this instance now holds the task's lease. */
  holds: boolean;
}

const MISSED_REASON = 'not run: the host was down, asleep or busy when it was due';

/**
 * Claims one task, inside the caller's transaction: plans with planClaim, then takes the
 * lease and moves next_run_at with the compare-and-swap (TaskStore.claim) and, only if that
 * won, records missed occurrences, abandons interrupted ones and writes a pending task_runs
 * row for each occurrence to run. Returns null when another instance changed the task first.
 */
export function applyClaim(
  ctx: ClaimContext,
  task: TaskRecord,
  now: number,
  leaseExpired: boolean,
): ClaimOutcome | null {
  const { tasks, runs } = ctx;
  const interrupted = leaseExpired ? runs.open(task.id) : [];
  const plan = planClaim({ task, now, interrupted, graceMs: ctx.graceMs });
  const holds = plan.run.length > 0;
  const won = tasks.claim(task, {
    owner: holds ? ctx.owner : null,
    leaseExpiresAt: holds ? now + ctx.leaseTtlMs : null,
    nextRunAt: plan.nextRunAt,
    status: plan.status,
    lastRunAt: holds ? plan.run[plan.run.length - 1]!.scheduledFor : null,
    now,
  });
  const log = ctx.log.child({ group: task.group, task: task.id });
  if (!won) {
    log.debug('task claimed by another instance meanwhile');
    return null;
  }
  if (leaseExpired) {
    log.warn(
      { owner: task.leaseOwner, interrupted: interrupted.length, rerun: plan.run.length },
      'expired lease resolved by the missed policy',
    );
  }
  runs.insertMissed(task.id, plan.missed, MISSED_REASON, now);
  const unlisted = plan.missedTotal - plan.missed.length - plan.abandon.length;
  const lastListed = plan.missed[plan.missed.length - 1];
  if (unlisted > 0 && lastListed !== undefined) {
    const last = runs.byOccurrence(task.id, lastListed);
    if (last) {
      const error = `${MISSED_REASON} (and ${unlisted} later occurrences, not listed one by one)`;
      runs.finish(last.id, { status: 'missed', now, error });
    }
  }
  for (const id of plan.abandon) {
    runs.finish(id, {
      status: 'missed',
      now,
      error: `interrupted: the daemon stopped during this run; not re-run (missed policy ${task.missedPolicy})`,
    });
  }
  for (const r of plan.run) runs.upsertPending(task.id, r.scheduledFor, r.trigger, now);
  return {
    task: { ...task, status: plan.status, nextRunAt: plan.nextRunAt },
    run: plan.run.map((r) => r.scheduledFor),
    missed: plan.missedTotal,
    holds,
  };
}

/**
 * Claims an extra, manual occurrence at `now` (run-now), inside the caller's transaction: takes
 * the lease if the task has none (its schedule is untouched) or shares the one this instance
 * holds. TaskError: not_found; conflict while another instance holds the lease.
 */
export function applyManualClaim(
  ctx: ClaimContext,
  taskId: string,
  now: number,
): { task: TaskRecord; run: { id: number; scheduledFor: number } } {
  const task = ctx.tasks.get(taskId);
  if (!task) throw new TaskError('not_found', `no task "${taskId}"`);
  if (task.leaseOwner !== ctx.owner) {
    if (task.leaseOwner !== null) {
      throw new TaskError(
        'conflict',
        `task ${taskId} is running in another clawpod process (or being recovered); try again when it ends`,
      );
    }
    const won = ctx.tasks.claim(task, {
      owner: ctx.owner,
      leaseExpiresAt: now + ctx.leaseTtlMs,
      nextRunAt: task.nextRunAt,
      status: task.status,
      lastRunAt: now,
      now,
    });
    if (!won) throw new TaskError('conflict', `task ${taskId} changed meanwhile; try again`);
  }
  return { task, run: ctx.runs.insertManual(taskId, now) };
}

/** Whether a process exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Lease owners are `<host>:<pid>:<random>`. Leases of processes on this host that no longer
 * exist are made to expire now, so a quick restart resolves them at once instead of waiting
 * out the TTL. Returns how many leases were expired.
 */
export function expireDeadLocalLeases(
  tasks: TaskStore,
  self: string,
  now: number,
  alive: (pid: number) => boolean,
  log: Logger,
): number {
  const host = `${hostname()}:`;
  let expired = 0;
  for (const owner of tasks.leaseOwners()) {
    if (owner === self || !owner.startsWith(host)) continue;
    const pid = Number(owner.slice(host.length).split(':')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      const n = tasks.expireLeases(owner, now);
      log.info({ owner, tasks: n }, 'leases of a stopped local process expired');
      expired += n;
    }
  }
  return expired;
}
