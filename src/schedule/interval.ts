import { EXPECTED_FORMS, ScheduleError, quote } from './errors.js';

/**
 * The shortest interval accepted, in milliseconds. Every run starts a sandboxed agent, so
 * anything more frequent than this is almost certainly a unit mistake (e.g. 3600 meant as
 * seconds). The same minimum applies to the seconds field of 6-field cron expressions.
 */
export const MIN_INTERVAL_MS = 10_000;

const UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;
type Unit = keyof typeof UNIT_MS;

const COMPACT = /^(?:\d+\s*(?:ms|s|m|h|d|w)\s*)+$/i;
const COMPACT_PART = /(\d+)\s*(ms|s|m|h|d|w)/gi;
const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i;

function invalid(value: unknown, why: string): ScheduleError {
  return new ScheduleError(
    'invalid_interval',
    value,
    `Interval ${quote(value)} ${why}: expected ${EXPECTED_FORMS.interval}.`,
  );
}

function checked(value: unknown, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw invalid(value, 'is not a positive whole duration');
  if (ms < MIN_INTERVAL_MS) {
    const hint =
      typeof value === 'number' || /^\d+$/.test(String(value).trim())
        ? ` (a plain number is milliseconds; did you mean "${String(value).trim()}s"?)`
        : '';
    throw invalid(value, `is shorter than the minimum of ${MIN_INTERVAL_MS / 1000}s${hint}`);
  }
  return ms;
}

/** True if `text` has the shape of an interval (compact units, ISO duration, or digits). */
export function looksLikeInterval(text: string): boolean {
  const t = text.trim();
  return /^\d+$/.test(t) || COMPACT.test(t) || (ISO_DURATION.test(t) && t.length > 1);
}

/**
 * Parse an interval to whole milliseconds. Accepts a number of milliseconds, a string of
 * digits (milliseconds), compact units ("30s", "15m", "2h", "1d", "1w", "1h30m", "1h 30m",
 * "500ms"; each unit at most once) or an ISO 8601 duration with weeks, days, hours, minutes
 * and seconds ("PT15M", "P1DT12H"). Months and years are refused: their length varies, use
 * cron for calendar schedules. A day is always 24 h of elapsed time, whatever DST does.
 * Throws ScheduleError('invalid_interval') for anything else or below MIN_INTERVAL_MS.
 */
export function parseIntervalMs(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalid(value, 'is not a whole number of milliseconds');
    return checked(value, value);
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return checked(value, Number(text));
  if (COMPACT.test(text)) {
    const seen = new Set<string>();
    let ms = 0;
    for (const match of text.matchAll(COMPACT_PART)) {
      const unit = (match[2] ?? '').toLowerCase() as Unit;
      if (seen.has(unit)) throw invalid(value, `repeats the unit "${unit}"`);
      seen.add(unit);
      ms += Number(match[1]) * UNIT_MS[unit];
    }
    return checked(value, ms);
  }
  const iso = ISO_DURATION.exec(text);
  if (iso && text.length > 1 && !/T$/i.test(text)) {
    const [, w, d, h, m, s] = iso;
    const part = (n: string | undefined, unit: Unit): number =>
      n === undefined ? 0 : Number(n) * UNIT_MS[unit];
    return checked(value, part(w, 'w') + part(d, 'd') + part(h, 'h') + part(m, 'm') + part(s, 's'));
  }
  throw invalid(value, 'is not a recognised duration');
}

/** Short human form of a duration: 5400000 → "1h 30m", 86400000 → "1d", 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * UNIT_MS[unit];
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest / 1000}s`);
  return parts.join(' ');
}

/**
 * The first time on the grid anchor + k*period (k ≥ 0, whole) that is strictly after
 * `afterMs`. Exact integer arithmetic: the 10,000th period is exactly anchor + 10000*period,
 * however many times this is called, so there is never drift. Before the anchor, the anchor.
 */
export function nextOnGrid(anchorMs: number, periodMs: number, afterMs: number): number {
  if (afterMs < anchorMs) return anchorMs;
  const k = Math.floor((afterMs - anchorMs) / periodMs) + 1;
  return anchorMs + k * periodMs;
}
