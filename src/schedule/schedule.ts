/**
 * Schedule mathematics: parse and canonicalise schedules, and compute fire times.
 * Pure: no timers, no clock (every function takes the reference time), no storage.
 *
 * Time rules, in one place:
 * - cron runs in the schedule's IANA zone. DST: a fixed-time job (no `*` or step in its
 *   seconds/minutes/hours, e.g. `30 1 * * *`) fires once in a repeated hour (first pass) and,
 *   when its time is skipped by a spring-forward gap, fires at the instant the clock jumps
 *   (02:30 in New York's 02:00→03:00 gap → 03:00 EDT) so no day is missed. Jobs with a
 *   wildcard or step there (`0 * * * *`, `*\/10 * * * *`) follow elapsed time: both passes of a
 *   repeated hour, nothing inside a gap. See cron.ts.
 * - interval fires on the grid anchor + k*period (elapsed time, DST-blind), k ≥ 0; integer
 *   arithmetic, so there is no drift however many periods pass.
 * - once is a single instant; a naive local time is read in the schedule's zone with the
 *   same DST rules as a fixed-time cron job.
 */
import {
  countCronRuns,
  cronNextAfter,
  cronRunsAtOrBefore,
  looksLikeCron,
  normaliseCron,
} from './cron.js';
import { looksLikeInterval, nextOnGrid, parseIntervalMs } from './interval.js';
import { looksLikeIsoTime, parseIsoTime } from './once.js';
import { EXPECTED_FORMS, ScheduleError, quote } from './errors.js';
import { canonicalTimeZone } from './time-zone.js';

export type ScheduleType = 'cron' | 'interval' | 'once';

/**
 * A validated schedule in canonical form, safe to store and compare:
 * - cron: the normalised expression (see normaliseCron), e.g. "0 8 * * MON";
 * - interval: the period in whole milliseconds as a decimal string, e.g. "900000";
 * - once: the instant as a UTC ISO string, e.g. "2026-12-01T00:00:00.000Z";
 * and `timezone` the canonical IANA zone name.
 */
export interface Schedule {
  readonly type: ScheduleType;
  readonly value: string;
  readonly timezone: string;
}

/** The schedule of anything that carries one (a stored task), without the rest of it. */
export const scheduleOf = (t: Schedule): Schedule => ({
  type: t.type,
  value: t.value,
  timezone: t.timezone,
});

export interface ScheduleInput {
  /** Omit to infer from the value's shape. */
  type?: ScheduleType;
  value: string | number;
  /** IANA zone for cron and for naive `once` times; intervals ignore it but it is validated. */
  timezone: string;
}

/** Due times in a window, as returned by occurrencesBetween. */
export interface Occurrences {
  /** The earliest due times in the window, ascending, at most `cap`. */
  times: Date[];
  /** The latest due times in the window, ascending, at most `cap` (equal to `times` when total ≤ cap). */
  latest: Date[];
  /** How many due times the window holds; a lower bound when `exact` is false. */
  total: number;
  /** False only for a cron window too large to count (more than COUNT_LIMIT due times). */
  exact: boolean;
}

/**
 * Cron windows are counted one fire time at a time up to this many (a few seconds of work at
 * most, e.g. a per-minute job down for 4 months); beyond it the count is a lower bound.
 */
export const COUNT_LIMIT = 200_000;

function inferType(value: string | number): ScheduleType {
  if (typeof value === 'number') return 'interval';
  if (looksLikeIsoTime(value)) return 'once';
  if (looksLikeInterval(value)) return 'interval';
  if (looksLikeCron(value)) return 'cron';
  throw new ScheduleError(
    'unrecognised_schedule',
    value,
    `Schedule ${quote(value)} is not recognised. Expected one of: ${EXPECTED_FORMS.cron}; ` +
      `${EXPECTED_FORMS.interval}; ${EXPECTED_FORMS.once}.`,
  );
}

/**
 * Validate a schedule and return its canonical form. When `type` is absent it is inferred:
 * a number or an interval-shaped string ("15m", "1h30m", "PT15M", "3600000") is an interval,
 * a string starting "YYYY-MM-DD" is a once time, 5-6 whitespace-separated fields or an
 * @nickname is cron. A once time without an offset is read in `timezone`, never the host's.
 * Past once times are accepted (the caller, which knows "now", decides whether to refuse them:
 * `nextRun(schedule, now) === null`). Throws ScheduleError naming the value and the accepted
 * forms: bad zone, bad cron, cron that never fires, interval below MIN_INTERVAL_MS, bad time.
 */
export function parseSchedule(input: ScheduleInput): Schedule {
  const timezone = canonicalTimeZone(input.timezone);
  const type = input.type ?? inferType(input.value);
  const { value } = input;
  if (type === 'interval') {
    return { type, value: String(parseIntervalMs(value)), timezone };
  }
  if (typeof value !== 'string') {
    const expected = type === 'cron' ? EXPECTED_FORMS.cron : EXPECTED_FORMS.once;
    throw new ScheduleError(
      type === 'cron' ? 'invalid_cron' : 'invalid_time',
      value,
      `A ${type} schedule needs a string, got ${quote(value)}: expected ${expected}.`,
    );
  }
  if (type === 'once') {
    return { type, value: new Date(parseIsoTime(value, timezone)).toISOString(), timezone };
  }
  if (type !== 'cron') {
    throw new ScheduleError(
      'unrecognised_schedule',
      type,
      `Schedule type ${quote(type)} is not one of "cron", "interval", "once".`,
    );
  }
  const pattern = normaliseCron(value);
  if (cronNextAfter(pattern, timezone, Date.UTC(2000, 0, 1)) === null) {
    throw new ScheduleError(
      'never_fires',
      value,
      `Cron expression ${quote(value)} never fires (no date matches it, e.g. 30 February): ` +
        `expected ${EXPECTED_FORMS.cron}.`,
    );
  }
  return { type, value: pattern, timezone };
}

/** Re-validate a stored schedule cheaply enough for hot paths; throws ScheduleError if corrupt. */
function periodOf(schedule: Schedule): number {
  const ms = Number(schedule.value);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new ScheduleError(
      'invalid_interval',
      schedule.value,
      `Stored interval ${quote(schedule.value)} is not a positive whole number of milliseconds; ` +
        're-create the task with parseSchedule.',
    );
  }
  return ms;
}

function onceInstant(schedule: Schedule): number {
  const ms = Date.parse(schedule.value);
  if (Number.isNaN(ms)) {
    throw new ScheduleError(
      'invalid_time',
      schedule.value,
      `Stored once time ${quote(schedule.value)} is not an ISO instant; re-create the task with parseSchedule.`,
    );
  }
  return ms;
}

/** nextRun in epoch milliseconds; the shared core of the functions below. */
function nextMs(schedule: Schedule, afterMs: number, anchorMs: number | undefined): number | null {
  switch (schedule.type) {
    case 'cron':
      return cronNextAfter(schedule.value, schedule.timezone, afterMs);
    case 'interval': {
      const period = periodOf(schedule);
      return nextOnGrid(anchorMs ?? afterMs + period, period, afterMs);
    }
    case 'once': {
      const at = onceInstant(schedule);
      return at > afterMs ? at : null;
    }
    default:
      throw new ScheduleError(
        'unrecognised_schedule',
        (schedule as { type: unknown }).type,
        `Stored schedule type ${quote((schedule as { type: unknown }).type)} is not one of ` +
          '"cron", "interval", "once".',
      );
  }
}

/**
 * The first fire time strictly after `after`, or null when there is none (a once time that
 * is not after `after`; a cron that can never fire again).
 * - cron: via croner in the schedule's zone, DST rules as in the module comment.
 * - interval: the first anchor + k*period (k ≥ 0) strictly after `after`; `anchor` is the
 *   task's first due time and must be passed for every call after the first, or the grid
 *   moves. Without an anchor the answer is after + period (use it as the anchor from then on).
 * - once: its instant if strictly after `after`, else null.
 * O(1) for interval and once; one croner search for cron (compiled patterns are cached).
 */
export function nextRun(schedule: Schedule, after: Date, anchor?: Date): Date | null {
  const next = nextMs(schedule, after.getTime(), anchor?.getTime());
  return next === null ? null : new Date(next);
}

/**
 * The next `n` fire times strictly after `after`, ascending (fewer if the schedule ends,
 * e.g. a once schedule gives at most one). For confirmations ("next 3 fire times") and
 * `clawpod tasks next`. `anchor` as for nextRun. O(n).
 */
export function nextRuns(schedule: Schedule, after: Date, n: number, anchor?: Date): Date[] {
  const out: Date[] = [];
  let cursor = after.getTime();
  const anchorMs =
    anchor?.getTime() ?? (schedule.type === 'interval' ? cursor + periodOf(schedule) : undefined);
  while (out.length < n) {
    const next = nextMs(schedule, cursor, anchorMs);
    if (next === null) break;
    out.push(new Date(next));
    cursor = next;
  }
  return out;
}

/**
 * The due times in the half-open window (from, to] — a due time equal to `from` is not in it,
 * one equal to `to` is. For missed-run accounting after an outage. `times` holds the earliest
 * and `latest` the most recent due times (each at most `cap`, ascending), `total` the count.
 * Interval and once: exact, O(cap). Cron: O(cap) to find `times` and `latest`, and the count
 * walks the window one fire time at a time up to COUNT_LIMIT (then `exact` is false and
 * `total` a lower bound) — so cost is linear in the window, never quadratic.
 * `anchor` as for nextRun (for an interval without one, the grid starts at from + period).
 */
export function occurrencesBetween(
  schedule: Schedule,
  from: Date,
  to: Date,
  anchor?: Date,
  cap = 1000,
): Occurrences {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const limit = Math.max(0, Math.floor(cap));
  const empty: Occurrences = { times: [], latest: [], total: 0, exact: true };
  if (toMs <= fromMs) return empty;
  const dates = (list: number[]): Date[] => list.map((t) => new Date(t));

  if (schedule.type === 'interval') {
    const period = periodOf(schedule);
    const anchorMs = anchor?.getTime() ?? fromMs + period;
    const first = nextOnGrid(anchorMs, period, fromMs);
    if (first > toMs) return empty;
    const total = Math.floor((toMs - first) / period) + 1;
    const take = Math.min(total, limit);
    const times = Array.from({ length: take }, (_, i) => first + i * period);
    const latest = Array.from({ length: take }, (_, i) => first + (total - take + i) * period);
    return { times: dates(times), latest: dates(latest), total, exact: true };
  }
  if (schedule.type === 'once') {
    const at = onceInstant(schedule);
    if (at <= fromMs || at > toMs) return empty;
    const list = limit > 0 ? [new Date(at)] : [];
    return { times: list, latest: [...list], total: 1, exact: true };
  }

  const { value: pattern, timezone } = schedule;
  const times: number[] = [];
  let cursor = fromMs;
  while (times.length < limit) {
    const next = cronNextAfter(pattern, timezone, cursor);
    if (next === null || next > toMs) {
      return { times: dates(times), latest: dates(times), total: times.length, exact: true };
    }
    times.push(next);
    cursor = next;
  }
  const latest = cronRunsAtOrBefore(pattern, timezone, limit, toMs)
    .filter((t) => t > cursor)
    .reverse();
  // Count the due times strictly between the last of `times` and the first of `latest`.
  const stop = latest[0] ?? toMs + 1;
  const middle = countCronRuns(
    pattern,
    timezone,
    cursor,
    stop - 1,
    Math.max(0, COUNT_LIMIT - times.length - latest.length),
  );
  const total = times.length + middle.count + latest.length;
  const exact = middle.exact;
  return { times: dates(times), latest: dates([...times, ...latest].slice(-limit)), total, exact };
}
