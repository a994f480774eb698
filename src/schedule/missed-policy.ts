/**
 * What to do with the runs a task missed while the host was down. Pure: the caller passes
 * "now"; nothing here reads a clock, arms a timer or touches the store.
 */
import { ScheduleError, quote } from './errors.js';
import { nextRun, occurrencesBetween, type Schedule } from './schedule.js';

/**
 * - skip: run none of the missed occurrences; record them all as missed.
 * - latest: run the most recent missed occurrence now; record the others as missed.
 * - all: run the most recent `cap` missed occurrences now, oldest first; record the rest.
 */
export type MissedPolicy = { kind: 'skip' } | { kind: 'latest' } | { kind: 'all'; cap: number };

export const DEFAULT_MISSED_POLICY: MissedPolicy = { kind: 'latest' };
/** Catch-up runs for `all` when no cap is given, and the most a cap may be. */
export const DEFAULT_ALL_CAP = 10;
export const MAX_ALL_CAP = 100;
/** At most this many missed occurrences are listed individually; the rest are only counted. */
export const MISSED_RECORD_LIMIT = 1000;
/**
 * A due time at most this far before "now" is late, not missed: under `skip` it still runs.
 * Keeps a timer that wakes a little late, or a quick restart, from dropping a run.
 */
export const DEFAULT_GRACE_MS = 60_000;

/**
 * Validate a policy as stored or typed by a user: kind "skip" | "latest" | "all" (default
 * "latest"), cap only for "all" (default DEFAULT_ALL_CAP, 1..MAX_ALL_CAP).
 * Throws ScheduleError('invalid_missed_policy') saying what is accepted.
 */
export function parseMissedPolicy(kind?: string | null, cap?: number | null): MissedPolicy {
  const expected = `expected "skip", "latest" or "all" (with an optional cap of 1-${MAX_ALL_CAP}, default ${DEFAULT_ALL_CAP})`;
  const k = (kind ?? 'latest').trim().toLowerCase();
  if (k === 'skip' || k === 'latest') {
    if (cap !== undefined && cap !== null) {
      throw new ScheduleError(
        'invalid_missed_policy',
        cap,
        `A cap only applies to the "all" missed policy, not ${quote(k)}: ${expected}.`,
      );
    }
    return { kind: k };
  }
  if (k !== 'all') {
    throw new ScheduleError(
      'invalid_missed_policy',
      kind,
      `Missed policy ${quote(kind)} is not known: ${expected}.`,
    );
  }
  const value = cap ?? DEFAULT_ALL_CAP;
  if (!Number.isInteger(value) || value < 1 || value > MAX_ALL_CAP) {
    throw new ScheduleError(
      'invalid_missed_policy',
      cap,
      `Missed-run cap ${quote(cap)} is out of range: ${expected}.`,
    );
  }
  return { kind: 'all', cap: value };
}

export interface MissedRunsInput {
  schedule: Schedule;
  policy: MissedPolicy;
  /** The task's stored next_run_at: the first due time that has not been run. */
  nextRunAt: Date;
  now: Date;
  /** Interval grid anchor (the task's first due time); defaults to nextRunAt, which is on the grid. */
  anchor?: Date;
  /** See DEFAULT_GRACE_MS. */
  graceMs?: number;
}

export interface MissedRunsPlan {
  /** Missed occurrences to record with status `missed`, ascending; at most MISSED_RECORD_LIMIT. */
  missed: Date[];
  /** How many occurrences were missed in all (≥ missed.length; a lower bound if !missedExact). */
  missedTotal: number;
  missedExact: boolean;
  /** Due times to run now, ascending (0 or 1 for skip/latest, up to cap for all). */
  catchUp: Date[];
  /** The task's new next_run_at, strictly after now; null when the schedule has no more runs. */
  nextRunAt: Date | null;
}

/**
 * Decide, for one task, what happens to the occurrences due in [nextRunAt, now] — the stored
 * next due time itself included — which the host did not run (it was down, or late).
 * - skip:   every due occurrence is recorded missed, none runs — except that the most recent
 *           one runs if it is within graceMs of now (it is late, not missed).
 * - latest: the most recent due occurrence runs; all earlier ones are recorded missed.
 * - all:    the most recent `cap` due occurrences run, oldest first; earlier ones are missed.
 * Example, hourly cron, 3-day outage, 72 due occurrences, none within grace:
 *   skip → 72 missed, 0 run; latest → 71 missed, 1 run; all(cap 10) → 62 missed, 10 run.
 * nextRunAt is always the first due time strictly after now (null for a finished once), so
 * nothing in `missed` or `catchUp` can come due again: no double fire.
 * Every occurrence lands in exactly one of `catchUp` or the missed count. If nextRunAt is
 * after now nothing is due and the plan is empty with nextRunAt unchanged.
 * Cost: linear in the number of due occurrences (see occurrencesBetween), never quadratic.
 */
export function planMissedRuns(input: MissedRunsInput): MissedRunsPlan {
  const { schedule, policy, nextRunAt, now } = input;
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  if (nextRunAt.getTime() > now.getTime()) {
    return { missed: [], missedTotal: 0, missedExact: true, catchUp: [], nextRunAt };
  }
  const anchor = input.anchor ?? nextRunAt;
  const runLimit = policy.kind === 'all' ? policy.cap : 1;
  const due = occurrencesBetween(
    schedule,
    new Date(nextRunAt.getTime() - 1),
    now,
    anchor,
    Math.max(MISSED_RECORD_LIMIT, runLimit),
  );
  const newest = due.latest[due.latest.length - 1];
  let runCount: number;
  if (policy.kind === 'skip') {
    runCount = newest && now.getTime() - newest.getTime() <= graceMs ? 1 : 0;
  } else {
    runCount = Math.min(runLimit, due.total);
  }
  const catchUp = runCount > 0 ? due.latest.slice(-runCount) : [];
  const firstRun = catchUp[0]?.getTime() ?? Infinity;
  const missed = due.times.filter((t) => t.getTime() < firstRun).slice(0, MISSED_RECORD_LIMIT);
  return {
    missed,
    missedTotal: due.total - catchUp.length,
    missedExact: due.exact,
    catchUp,
    nextRunAt: nextRun(schedule, now, anchor),
  };
}
