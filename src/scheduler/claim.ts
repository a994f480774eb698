/**
 * Claiming a due task. planClaim decides from the stored row and "now" what one claim does
 * (pure); applyClaim applies that plan in the caller's transaction, behind the compare-and-swap
 * that takes the lease. Also here: manual (run-now) claims, expiring the leases of local
 * processes that died, and the owner's summary of what was missed.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { describeSchedule } from '../schedule/describe.js';
import { TaskError } from '../schedule/errors.js';
import { DEFAULT_GRACE_MS, parseMissedPolicy, planMissedRuns } from '../schedule/missed-policy.js';
import { scheduleOf } from '../schedule/schedule.js';
import type { TaskRunRecord, TaskRunStore, TaskRunTrigger } from '../store/task-runs.js';
import type { TaskRecord, TaskStatus, TaskStore } from '../store/tasks.js';

export interface ClaimPlan {
  /** Due times to record as missed (new task_runs rows), ascending. */
  missed: number[];
  /** How many occurrences were missed in all, interrupted ones included (≥ listed). */
  missedTotal: number;
  /** Open task_runs of an expired lease that are not re-run: recorded missed. */
  abandon: number[];
  /** Occurrences to run now, ascending; re-runs of interrupted ones keep their row. */
  run: Array<{ scheduledFor: number; trigger: TaskRunTrigger }>;
  /** The task's next_run_at after the claim. */
  nextRunAt: number | null;
  status: TaskStatus;
}

export interface ClaimInput {
  task: TaskRecord;
  now: number;
  /** Open task_runs left under an expired lease (a crash, or a stop mid-run); else empty. */
  interrupted: TaskRunRecord[];
  graceMs?: number;
}

/**
 * - A due active task (next_run_at ≤ now): planMissedRuns decides which occurrences in
 *   [next_run_at, now] run now and which are recorded missed, and gives the next due time
 *   strictly after now. A once task with no time left becomes completed.
 * - Interrupted occurrences (expired lease) are older than anything in that window and are
 *   resolved once, by the same policy: `latest` re-runs the newest of them only when nothing
 *   newer is due; `all` fills its cap with the newest; `skip` re-runs one only within the
 *   grace period. The rest are recorded missed. A task no longer active (paused, cancelled)
 *   re-runs nothing.
 * Each occurrence ends up in exactly one of run, missed or abandon.
 */
export function planClaim(input: ClaimInput): ClaimPlan {
  const { task, now } = input;
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  const policy = parseMissedPolicy(task.missedPolicy, task.missedCap);
  const schedule = scheduleOf(task);
  const trigger = (t: number): TaskRunTrigger => (now - t <= graceMs ? 'schedule' : 'catch-up');

  let missed: number[] = [];
  let missedTotal = 0;
  let catchUp: number[] = [];
  let nextRunAt = task.nextRunAt;
  let status = task.status;
  if (task.status === 'active' && task.nextRunAt !== null && task.nextRunAt <= now) {
    const plan = planMissedRuns({
      schedule,
      policy,
      nextRunAt: new Date(task.nextRunAt),
      now: new Date(now),
      anchor: task.anchorAt === null ? undefined : new Date(task.anchorAt),
      graceMs,
    });
    missed = plan.missed.map((d) => d.getTime());
    missedTotal = plan.missedTotal;
    catchUp = plan.catchUp.map((d) => d.getTime());
    nextRunAt = plan.nextRunAt?.getTime() ?? null;
    if (nextRunAt === null) status = 'completed';
  }

  const interrupted = [...input.interrupted].sort((a, b) => a.scheduledFor - b.scheduledFor);
  let rerunCount = 0;
  if (task.status === 'active' || task.status === 'completed') {
    if (policy.kind === 'skip') {
      const newest = interrupted[interrupted.length - 1];
      rerunCount = catchUp.length === 0 && newest && now - newest.scheduledFor <= graceMs ? 1 : 0;
    } else {
      const cap = policy.kind === 'all' ? policy.cap : 1;
      rerunCount = Math.max(0, cap - catchUp.length);
    }
  }
  const rerun = rerunCount > 0 ? interrupted.slice(-rerunCount) : [];
  const abandoned = interrupted.slice(0, interrupted.length - rerun.length);

  return {
    missed,
    missedTotal: missedTotal + abandoned.length,
    abandon: abandoned.map((r) => r.id),
    run: [
      ...rerun.map((r) => ({ scheduledFor: r.scheduledFor, trigger: r.trigger })),
      ...catchUp.map((t) => ({ scheduledFor: t, trigger: trigger(t) })),
    ],
    nextRunAt,
    status,
  };
}

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

export interface MissedSummaryLine {
  task: TaskRecord;
  missed: number;
  ran: number;
}

/** One notice per start (or wake-up) listing what was missed, at most 10 tasks by name. */
export function missedSummary(lines: MissedSummaryLine[], cause: 'start' | 'wake'): string {
  const total = lines.reduce((n, l) => n + l.missed, 0);
  const head =
    cause === 'start'
      ? `⏰ While clawpod was not running, ${total} scheduled run${total === 1 ? ' was' : 's were'} missed:`
      : `⏰ The host was asleep or its clock jumped: ${total} scheduled run${total === 1 ? ' was' : 's were'} missed:`;
  const shown = lines.slice(0, 10).map((l) => {
    const caught = l.ran
      ? `; ${l.ran} run now (policy ${l.task.missedPolicy})`
      : ` (policy ${l.task.missedPolicy})`;
    return `• ${l.task.id} in ${l.task.group} — ${describeSchedule(scheduleOf(l.task))}: ${l.missed} missed${caught}`;
  });
  if (lines.length > 10) shown.push(`• … and ${lines.length - 10} more tasks`);
  return [head, ...shown, 'Details: clawpod tasks history <id>'].join('\n');
}
