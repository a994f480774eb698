import { Cron, CronPattern, type CronOptions } from 'croner';
import { MIN_INTERVAL_MS } from './interval.js';
import { EXPECTED_FORMS, ScheduleError, quote } from './errors.js';
import { offsetAt, offsetChanges } from './time-zone.js';

/**
 * Croner options every clawpod cron uses. `fixedTimeRule: 'no-wildcard'` makes any job whose
 * seconds, minutes and hours contain no `*` and no step (e.g. `30 2 * * *`, `30 2,14 * * *`,
 * `0 2-3 * * *`) a fixed-time job for DST purposes:
 * - a wall time that occurs twice (clocks go back) fires once, at its first occurrence;
 * - a wall time that does not exist (clocks go forward) fires once at the instant the clock
 *   jumps (02:30 in a 02:00→03:00 gap fires at 03:00), on the same day, so no day is skipped.
 *   Several times of one job inside the gap, or in it and at its end (`15,45 2 * * *`,
 *   `0 2-3 * * *`), meet at the jump and fire once there.
 * Jobs with a wildcard or step in those fields (`*\/15 * * * *`, `0 * * * *`) follow elapsed
 * time instead: they fire on both passes of a repeated hour and have no firings inside a gap
 * (there is no such wall time), exactly like Vixie cron.
 */
const CRON_OPTIONS = {
  paused: true,
  mode: '5-or-6-parts',
  fixedTimeRule: 'no-wildcard',
  domAndDow: false,
} as const satisfies CronOptions;

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function invalid(value: unknown, why: string): ScheduleError {
  return new ScheduleError(
    'invalid_cron',
    value,
    `Cron expression ${quote(value)} ${why}: expected ${EXPECTED_FORMS.cron}.`,
  );
}

/**
 * True if `text` has the shape of a cron expression: an @nickname, or 2-7 whitespace-separated
 * fields made of cron characters, at least one with a digit or `*` (so "* * * *" is treated as
 * cron and gets a precise "has 4 fields" error, while "hello world" is not cron at all).
 */
export function looksLikeCron(text: string): boolean {
  const t = text.trim();
  if (t.startsWith('@')) return true;
  const fields = t.split(/\s+/);
  return (
    fields.length >= 2 &&
    fields.length <= 7 &&
    fields.every((f) => /^[\w*?,/#+-]+$/.test(f)) &&
    fields.some((f) => /[\d*?]/.test(f))
  );
}

/**
 * Validate a cron expression and return its canonical text: single spaces, names upper case
 * (`mon` → `MON`), `?` written as `*`, nicknames expanded (`@daily` → `0 0 * * *`), and a
 * 6-field expression whose seconds field is exactly `0` shortened to the equivalent 5 fields.
 * Day-of-month and day-of-week combine with OR when both are restricted (as in Vixie cron);
 * croner's `+` prefix on the weekday asks for AND. Croner's `L`, `W` and `#` are accepted.
 * Throws ScheduleError('invalid_cron') naming the problem, including a 6-field expression that
 * fires twice less than MIN_INTERVAL_MS apart.
 */
export function normaliseCron(value: string): string {
  let text = value.trim();
  const nickname = NICKNAMES[text.toLowerCase()];
  if (text.startsWith('@')) {
    if (!nickname) throw invalid(value, 'uses an unknown @nickname');
    text = nickname;
  }
  const fields = text.split(/\s+/).map((f) => f.toUpperCase().replace(/\?/g, '*'));
  if (fields.length !== 5 && fields.length !== 6) {
    throw invalid(value, `has ${fields.length} field${fields.length === 1 ? '' : 's'}`);
  }
  if (fields.length === 6 && fields[0] === '0') fields.shift();
  const canonical = fields.join(' ');
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(canonical, undefined, {
      mode: CRON_OPTIONS.mode,
      fixedTimeRule: CRON_OPTIONS.fixedTimeRule,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : '';
    throw invalid(value, `is not valid (${detail})`);
  }
  const seconds = pattern.second.flatMap((on, s) => (on ? [s] : []));
  for (let i = 1; i < seconds.length; i++) {
    if (((seconds[i] ?? 0) - (seconds[i - 1] ?? 0)) * 1000 < MIN_INTERVAL_MS) {
      throw invalid(value, `fires more often than every ${MIN_INTERVAL_MS / 1000}s`);
    }
  }
  return canonical;
}

const CACHE_LIMIT = 4096;
const compiled = new Map<string, Cron>();

/**
 * A croner job (paused: it never arms a timer) for a canonical pattern in an IANA zone, or at
 * a fixed UTC offset in minutes east of UTC (used only where the zone's offset is known to be
 * constant, see countCronRuns). Cached, least recently used evicted first.
 */
export function compiledCron(pattern: string, zoneOrOffset: string | number): Cron {
  const key = `${zoneOrOffset} ${pattern}`;
  let cron = compiled.get(key);
  if (cron) {
    compiled.delete(key);
  } else {
    const where =
      typeof zoneOrOffset === 'number' ? { utcOffset: zoneOrOffset } : { timezone: zoneOrOffset };
    cron = new Cron(pattern, { ...CRON_OPTIONS, ...where });
    if (compiled.size >= CACHE_LIMIT) {
      const oldest = compiled.keys().next();
      if (!oldest.done) compiled.delete(oldest.value);
    }
  }
  compiled.set(key, cron);
  return cron;
}

/**
 * The first fire time strictly after `afterMs` (epoch ms) of a canonical cron pattern in
 * `zone`, in epoch ms, or null if the pattern never fires again (e.g. "0 0 30 2 *").
 * DST behaviour: see CRON_OPTIONS above.
 */
export function cronNextAfter(pattern: string, zone: string, afterMs: number): number | null {
  const next = compiledCron(pattern, zone).nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}

/**
 * Up to `n` fire times at or before `atOrBeforeMs`, most recent first, in epoch ms. Agrees
 * with cronNextAfter walked forward, DST cases included.
 */
export function cronRunsAtOrBefore(
  pattern: string,
  zone: string,
  n: number,
  atOrBeforeMs: number,
): number[] {
  // croner's previousRuns includes a run earlier in the same second as the reference, and
  // fire times are whole seconds, so +1 ms makes the bound inclusive.
  const runs = compiledCron(pattern, zone).previousRuns(n, new Date(atOrBeforeMs + 1));
  return runs.map((d) => d.getTime()).filter((t) => t <= atOrBeforeMs);
}

/*
 * Counting cron fire times over long windows (missed-run accounting after an outage).
 *
 * croner in an IANA zone costs tens of microseconds per fire time (it converts through Intl
 * at every step); at a fixed UTC offset it is several times cheaper. Away from the zone's
 * offset changes the two give identical answers, because the wall clock is then just UTC
 * plus a constant. So a window is walked with the fixed-offset job wherever the nearest
 * offset change is more than SAFE_MARGIN_MS away, and with the zone job (which applies the
 * DST rules) near changes. The result equals walking cronNextAfter one step at a time.
 */

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
