import { EXPECTED_FORMS, ScheduleError, quote } from './errors.js';
import { instantFromWallTime, wallAsUtc, type WallTime } from './time-zone.js';

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** True if `text` starts like an ISO 8601 date ("2026-12-01..."). */
export function looksLikeIsoTime(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}/.test(text.trim());
}

function invalid(value: string, why: string): ScheduleError {
  return new ScheduleError(
    'invalid_time',
    value,
    `Time ${quote(value)} ${why}: expected ${EXPECTED_FORMS.once}.`,
  );
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parse "+05:30", "-0800", "+09" or "Z" to an offset in milliseconds. */
function offsetMs(value: string, text: string): number {
  if (text.toUpperCase() === 'Z') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 18 || minutes > 59) throw invalid(value, `has an impossible UTC offset "${text}"`);
  return sign * (hours * 60 + minutes) * 60_000;
}

/**
 * Parse an ISO 8601 date-time to epoch milliseconds.
 * - With an offset ("Z", "+01:00", "-0800", "+09") the offset decides the instant.
 * - Without one ("2026-12-01T09:00", "2026-12-01 09:00:30") the time is wall-clock time in
 *   `zone` (the task's IANA zone, never the host's). A time skipped by a DST change resolves
 *   to the instant the clock jumps; a repeated time to its first occurrence.
 * - A date alone ("2026-12-01") means 00:00 of that day in `zone`.
 * `zone` must already be canonical. Throws ScheduleError('invalid_time') for anything else,
 * including impossible dates such as 2026-02-30 or 24:00.
 */
export function parseIsoTime(value: string, zone: string): number {
  const match = ISO_TIME.exec(value.trim());
  if (!match) throw invalid(value, 'is not an ISO 8601 date-time');
  const [, y, mo, d, h, mi, s, frac, offset] = match;
  const wall: WallTime = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h ?? 0),
    minute: Number(mi ?? 0),
    second: Number(s ?? 0),
    millisecond: frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000),
  };
  if (wall.month < 1 || wall.month > 12) throw invalid(value, 'has no such month');
  if (wall.day < 1 || wall.day > daysInMonth(wall.year, wall.month)) {
    throw invalid(value, 'has no such day in that month');
  }
  if (wall.hour > 23 || wall.minute > 59 || wall.second > 59) {
    throw invalid(value, 'has an impossible time of day');
  }
  if (offset === undefined) return instantFromWallTime(zone, wall);
  return wallAsUtc(wall) - offsetMs(value, offset);
}
