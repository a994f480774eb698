/**
 * What one claim of a task does, decided from the stored row and "now". Pure: the Scheduler
 * applies the plan in the same transaction as the compare-and-swap that takes the lease.
 */
import type { TaskRunRecord, TaskRunTrigger } from '../store/task-runs.js';
import type { TaskRecord, TaskStatus } from '../store/tasks.js';
import { DEFAULT_GRACE_MS, parseMissedPolicy, planMissedRuns } from './missed-policy.js';
import { scheduleOf } from './task-view.js';

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
