import { EXPECTED_FORMS, ScheduleError, quote } from './errors.js';

/** A local (wall-clock) date and time, without a zone. Months are 1-12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Input spelling → canonical name, for names already validated (there are only ~600 zones). */
const canonicalNames = new Map<string, string>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * Validate an IANA time zone name and return its canonical spelling as the platform's ICU
 * data knows it (case fixed, links such as "US/Eastern" resolved).
 * Throws ScheduleError('invalid_timezone') for an unknown name or for a bare UTC offset
 * such as "+05:00" (offsets do not follow daylight saving time; use a zone name).
 */
export function canonicalTimeZone(zone: string): string {
  const trimmed = typeof zone === 'string' ? zone.trim() : '';
  if (!/^[A-Za-z]/.test(trimmed)) {
    throw new ScheduleError(
      'invalid_timezone',
      zone,
      `Time zone ${quote(zone)} is not valid: expected ${EXPECTED_FORMS.timezone}.`,
    );
  }
  const known = canonicalNames.get(trimmed);
  if (known) return known;
  try {
    const canonical = new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions()
      .timeZone;
    formatterFor(canonical);
    if (canonicalNames.size < 10_000) canonicalNames.set(trimmed, canonical);
    return canonical;
  } catch {
    throw new ScheduleError(
      'invalid_timezone',
      zone,
      `Unknown time zone ${quote(zone)}: expected ${EXPECTED_FORMS.timezone}.`,
    );
  }
}

/**
 * The wall-clock time in `zone` at the instant `ms` (epoch milliseconds).
 * `zone` must already be valid (see canonicalTimeZone).
 */
export function wallTimeAt(zone: string, ms: number): WallTime {
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(wholeSecond))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    hour: fields.hour ?? NaN,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
    millisecond: ms - wholeSecond,
  };
}

/** A wall time read as if it were UTC, in epoch milliseconds (for offset arithmetic). */
export function wallAsUtc(wall: WallTime): number {
  const ms = Date.UTC(
    wall.year,
    wall.month - 1,
    wall.day,
    wall.hour,
    wall.minute,
    wall.second,
    wall.millisecond,
  );
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly to avoid that.
  const date = new Date(ms);
  date.setUTCFullYear(wall.year);
  return date.getTime();
}

/** The UTC offset of `zone` at instant `ms`, in milliseconds (wall clock minus UTC). */
export function offsetAt(zone: string, ms: number): number {
  const wall = wallTimeAt(zone, ms);
  return wallAsUtc(wall) - ms;
}

/**
 * The instant at which the wall clock in `zone` shows `wall`. DST rules:
 * - a wall time that occurs twice (clocks go back) resolves to its first occurrence;
 * - a wall time that does not exist (clocks go forward) resolves to the instant the clock
 *   jumps, i.e. the first valid instant after the gap (02:30 in a 02:00→03:00 gap → 03:00).
 * These are the same rules the cron schedules follow for fixed-time jobs.
 * Assumes at most one offset change within 36 hours of the wall time, true of all zones.
 */
export function instantFromWallTime(zone: string, wall: WallTime): number {
  const asUtc = wallAsUtc(wall);
  const offsetBefore = offsetAt(zone, asUtc - 36 * HOUR_MS);
  const offsetAfter = offsetAt(zone, asUtc + 36 * HOUR_MS);
  const candidates = [asUtc - offsetBefore, asUtc - offsetAfter].filter(
    (instant) => offsetAt(zone, instant) === asUtc - instant,
  );
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the answer is the transition, the first instant with the new offset.
  const lo = Math.min(asUtc - offsetBefore, asUtc - offsetAfter);
  const hi = Math.max(asUtc - offsetBefore, asUtc - offsetAfter);
  return firstChange(zone, lo, hi);
}

/** Bisect (lo, hi] for the first instant whose offset differs from the offset at lo. */
function firstChange(zone: string, lo: number, hi: number): number {
  const offsetLo = offsetAt(zone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid) === offsetLo) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The instants in (fromMs, toMs] at which the UTC offset of `zone` changes, ascending.
 * Samples the offset every 24 hours and bisects each change to the millisecond, so two
 * changes less than a day apart that cancel out would go unseen (no zone has such rules).
 * Cost: about (toMs - fromMs) / 1 day offset look-ups.
 */
export function offsetChanges(zone: string, fromMs: number, toMs: number): number[] {
  const changes: number[] = [];
  let at = fromMs;
  let offset = offsetAt(zone, at);
  while (at < toMs) {
    const next = Math.min(at + 24 * HOUR_MS, toMs);
    const nextOffset = offsetAt(zone, next);
    if (nextOffset !== offset) changes.push(firstChange(zone, at, next));
    at = next;
    offset = nextOffset;
  }
  return changes;
}

/**
 * Format an instant as local time in `zone`: "2026-12-01 09:00" (seconds shown only when
 * not zero). For human-facing text, not for storage.
 */
export function formatWallTime(zone: string, ms: number): string {
  const w = wallTimeAt(zone, ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const seconds = w.second !== 0 ? `:${pad(w.second)}` : '';
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}${seconds}`;
}

/** An instant as ISO 8601 local time in `zone` with its offset: "2026-03-29T03:00:00+02:00". */
export function isoInZone(ms: number, zone: string): string {
  const w = wallTimeAt(zone, ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const offsetMin = Math.round(offsetAt(zone, ms) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const offset = offsetMin === 0 ? 'Z' : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  const millis = w.millisecond ? `.${pad(w.millisecond, 3)}` : '';
  return (
    `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:` +
    `${pad(w.second)}${millis}${offset}`
  );
}
