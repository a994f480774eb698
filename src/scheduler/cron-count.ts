/**
 * Counting cron fire times over long windows (missed-run accounting after an outage).
 *
 * croner in an IANA zone costs tens of microseconds per fire time (it converts through Intl
 * at every step); at a fixed UTC offset it is several times cheaper. Away from the zone's
 * offset changes the two give identical answers, because the wall clock is then just UTC
 * plus a constant. So a window is walked with the fixed-offset job wherever the nearest
 * offset change is more than SAFE_MARGIN_MS away, and with the zone job (which applies the
 * DST rules) near changes. The result equals walking cronNextAfter one step at a time.
 */
import { compiledCron, cronNextAfter } from './cron.js';
import { offsetAt, offsetChanges } from './time-zone.js';

/**
 * Distance from an offset change beyond which DST cannot affect a fire time: larger than any
 * offset change (at most 24 h, when a zone moves across the date line) plus the repeated or
 * skipped wall-clock range that follows it.
 */
const SAFE_MARGIN_MS = 26 * 3_600_000;

export interface CronCount {
  count: number;
  /** False if counting stopped at `limit`; `count` is then a lower bound. */
  exact: boolean;
}

/**
 * Count the fire times of a canonical cron pattern in `zone` in the window (fromMs, toMs],
 * stopping at `limit`. Linear in the count (a few microseconds per fire time away from DST
 * changes) plus one offset look-up per day of window.
 */
export function countCronRuns(
  pattern: string,
  zone: string,
  fromMs: number,
  toMs: number,
  limit: number,
): CronCount {
  const changes = offsetChanges(zone, fromMs - SAFE_MARGIN_MS, toMs + SAFE_MARGIN_MS);
  let nextChange = 0; // index of the first change after the cursor
  let count = 0;
  let cursor = fromMs;
  let offsetIndex = -1; // the stretch whose offset is in offsetMs
  let offsetMs = 0;
  for (;;) {
    while (nextChange < changes.length && (changes[nextChange] ?? Infinity) <= cursor) {
      nextChange += 1;
    }
    const previous = changes[nextChange - 1] ?? -Infinity;
    const safeUntil = (changes[nextChange] ?? Infinity) - SAFE_MARGIN_MS;
    let next: number | null = null;
    if (cursor - previous > SAFE_MARGIN_MS && cursor < safeUntil) {
      if (offsetIndex !== nextChange) {
        offsetMs = offsetAt(zone, cursor);
        offsetIndex = nextChange;
      }
      if (offsetMs % 60_000 === 0) {
        const fast = compiledCron(pattern, offsetMs / 60_000).nextRun(new Date(cursor));
        next = fast && fast.getTime() < safeUntil ? fast.getTime() : null;
      }
    }
    next ??= cronNextAfter(pattern, zone, cursor);
    if (next === null || next > toMs) return { count, exact: true };
    if (count >= limit) return { count, exact: false };
    count += 1;
    cursor = next;
  }
}
