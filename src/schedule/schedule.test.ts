import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeSchedule } from './describe.js';
import { ScheduleError } from './errors.js';
import { MIN_INTERVAL_MS } from './interval.js';
import { nextRun, nextRuns, occurrencesBetween, parseSchedule, type Schedule } from './schedule.js';

const at = (iso: string): Date => new Date(iso);
const iso = (dates: Date[]): string[] => dates.map((d) => d.toISOString());

function errorOf(fn: () => unknown): ScheduleError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleError);
    return error as ScheduleError;
  }
  throw new Error('expected a ScheduleError');
}

describe('parseSchedule: inference and canonical form', () => {
  it.each([
    ['0 8 * * 1', 'cron', '0 8 * * 1'],
    ['  0   8 * *   mon-fri ', 'cron', '0 8 * * MON-FRI'],
    ['@daily', 'cron', '0 0 * * *'],
    ['0 0 8 * * *', 'cron', '0 8 * * *'],
    ['30 0 8 * * *', 'cron', '30 0 8 * * *'],
    ['0 9 ? * *', 'cron', '0 9 * * *'],
    ['15m', 'interval', '900000'],
    ['2h', 'interval', '7200000'],
    ['1d', 'interval', '86400000'],
    ['30s', 'interval', '30000'],
    ['1h30m', 'interval', '5400000'],
    ['1h 30m', 'interval', '5400000'],
    ['PT15M', 'interval', '900000'],
    ['3600000', 'interval', '3600000'],
    [3600000, 'interval', '3600000'],
    ['2026-12-01T09:00:00Z', 'once', '2026-12-01T09:00:00.000Z'],
  ] as const)('%j → %s %s', (value, type, canonical) => {
    expect(parseSchedule({ value, timezone: 'UTC' })).toEqual({
      type,
      value: canonical,
      timezone: 'UTC',
    });
  });

  it('canonicalises the zone name', () => {
    expect(parseSchedule({ value: '15m', timezone: 'america/new_york' }).timezone).toBe(
      'America/New_York',
    );
  });

  it('honours an explicit type', () => {
    expect(parseSchedule({ type: 'interval', value: '60000', timezone: 'UTC' }).value).toBe(
      '60000',
    );
    expect(errorOf(() => parseSchedule({ type: 'cron', value: '15m', timezone: 'UTC' })).code).toBe(
      'invalid_cron',
    );
  });
});

describe('parseSchedule: errors name the value and the accepted forms', () => {
  it.each([
    ['* * * *', 'UTC', 'invalid_cron', /"\* \* \* \*" has 4 fields.*5 fields/],
    ['61 * * * *', 'UTC', 'invalid_cron', /"61 \* \* \* \*".*minute: 61/],
    ['0 0 30 2 *', 'UTC', 'never_fires', /never fires/],
    ['* * * * * *', 'UTC', 'invalid_cron', /more often than every 10s/],
    ['@reboot', 'UTC', 'invalid_cron', /unknown @nickname/],
    ['5s', 'UTC', 'invalid_interval', /"5s" is shorter than the minimum of 10s/],
    ['3600', 'UTC', 'invalid_interval', /did you mean "3600s"/],
    ['1h1h', 'UTC', 'invalid_interval', /repeats the unit "h"/],
    ['2026-02-30T10:00', 'UTC', 'invalid_time', /no such day/],
    ['2026-12-01T24:00', 'UTC', 'invalid_time', /impossible time of day/],
    ['2026-12-01T09:00+25:00', 'UTC', 'invalid_time', /impossible UTC offset/],
    ['next tuesday', 'UTC', 'unrecognised_schedule', /not recognised.*cron.*interval.*ISO 8601/],
    ['15m', 'Mars/Olympus_Mons', 'invalid_timezone', /"Mars\/Olympus_Mons".*IANA/],
    ['15m', '+05:00', 'invalid_timezone', /"\+05:00" is not valid.*IANA/],
  ])('%j in %s → %s', (value, timezone, code, message) => {
    const error = errorOf(() => parseSchedule({ value, timezone }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('refuses fractional and non-positive millisecond intervals', () => {
    expect(errorOf(() => parseSchedule({ value: 1500.5, timezone: 'UTC' })).code).toBe(
      'invalid_interval',
    );
    expect(errorOf(() => parseSchedule({ value: 0, timezone: 'UTC' })).code).toBe(
      'invalid_interval',
    );
    expect(MIN_INTERVAL_MS).toBe(10_000);
  });
});

describe('nextRun / nextRuns', () => {
  it('gives the next 3 fire times of a cron in its zone', () => {
    const s = parseSchedule({ value: '0 8 * * 1', timezone: 'Europe/Berlin' });
    expect(iso(nextRuns(s, at('2026-06-01T12:00:00Z'), 3))).toEqual([
      '2026-06-08T06:00:00.000Z',
      '2026-06-15T06:00:00.000Z',
      '2026-06-22T06:00:00.000Z',
    ]);
  });

  it('is strictly after `after`, also for a fire time equal to it', () => {
    const s = parseSchedule({ value: '0 * * * *', timezone: 'UTC' });
    expect(nextRun(s, at('2026-01-01T05:00:00.000Z'))?.toISOString()).toBe(
      '2026-01-01T06:00:00.000Z',
    );
    expect(nextRun(s, at('2026-01-01T04:59:59.999Z'))?.toISOString()).toBe(
      '2026-01-01T05:00:00.000Z',
    );
  });

  it('handles a 6-field cron with seconds', () => {
    const s = parseSchedule({ value: '0,30 * * * * *', timezone: 'Asia/Tokyo' });
    expect(iso(nextRuns(s, at('2026-06-01T00:00:10Z'), 3))).toEqual([
      '2026-06-01T00:00:30.000Z',
      '2026-06-01T00:01:00.000Z',
      '2026-06-01T00:01:30.000Z',
    ]);
    const daily = parseSchedule({ value: '45 30 9 * * *', timezone: 'Asia/Tokyo' });
    expect(nextRun(daily, at('2026-06-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-06-01T00:30:45.000Z',
    );
  });

  it('interval: anchored grid, 10,000th period exactly anchor + 10000*period', () => {
    const s = parseSchedule({ value: '1h30m', timezone: 'UTC' });
    const anchor = at('2026-01-01T00:00:07.123Z');
    const period = 5_400_000;
    let t = anchor;
    for (let k = 1; k <= 10_000; k++) {
      const next = nextRun(s, t, anchor);
      if (!next) throw new Error('interval ended');
      t = next;
    }
    expect(t.getTime()).toBe(anchor.getTime() + 10_000 * period);
    // A late wake-up does not shift the grid: next after an arbitrary time stays on it.
    const late = nextRun(s, new Date(anchor.getTime() + 7 * period + 12_345), anchor);
    expect(late?.getTime()).toBe(anchor.getTime() + 8 * period);
    // Before the anchor, the anchor itself is next.
    expect(nextRun(s, at('2025-12-31T00:00:00Z'), anchor)).toEqual(anchor);
    // Without an anchor: after + period (which becomes the anchor).
    expect(nextRun(s, anchor)?.getTime()).toBe(anchor.getTime() + period);
    expect(iso(nextRuns(s, anchor, 3))).toEqual([
      '2026-01-01T01:30:07.123Z',
      '2026-01-01T03:00:07.123Z',
      '2026-01-01T04:30:07.123Z',
    ]);
  });

  it('once: its instant if after `after`, else null', () => {
    const s = parseSchedule({ value: '2026-12-01T09:00:00Z', timezone: 'UTC' });
    expect(nextRun(s, at('2026-11-30T00:00:00Z'))).toEqual(at('2026-12-01T09:00:00Z'));
    expect(nextRun(s, at('2026-12-01T09:00:00Z'))).toBeNull();
    expect(nextRuns(s, at('2026-01-01T00:00:00Z'), 3)).toHaveLength(1);
  });

  it('throws ScheduleError for a corrupt stored schedule', () => {
    const bad = { type: 'interval', value: 'abc', timezone: 'UTC' } as Schedule;
    expect(errorOf(() => nextRun(bad, at('2026-01-01T00:00:00Z'))).code).toBe('invalid_interval');
  });
});

describe('once: naive times are read in the schedule zone, never the host zone', () => {
  let savedTz: string | undefined;
  beforeEach(() => {
    savedTz = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
  });
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('reads 2026-12-01T09:00 as 09:00 in Asia/Tokyo', () => {
    expect(new Date(2026, 11, 1, 9).toISOString()).toBe('2026-12-01T17:00:00.000Z'); // host is LA
    const tokyo = parseSchedule({ value: '2026-12-01T09:00', timezone: 'Asia/Tokyo' });
    expect(tokyo).toEqual({
      type: 'once',
      value: '2026-12-01T00:00:00.000Z',
      timezone: 'Asia/Tokyo',
    });
    const berlin = parseSchedule({ value: '2026-12-01 09:00', timezone: 'Europe/Berlin' });
    expect(berlin.value).toBe('2026-12-01T08:00:00.000Z');
    expect(describeSchedule(tokyo)).toBe('once at 2026-12-01 09:00 (Asia/Tokyo)');
  });

  it('an explicit offset wins over the zone', () => {
    for (const value of [
      '2026-12-01T09:00:00+01:00',
      '2026-12-01T09:00+0100',
      '2026-12-01T09:00+01',
    ]) {
      expect(parseSchedule({ value, timezone: 'Asia/Tokyo' }).value).toBe(
        '2026-12-01T08:00:00.000Z',
      );
    }
    expect(parseSchedule({ value: '2026-12-01T09:00:00.250Z', timezone: 'Asia/Tokyo' }).value).toBe(
      '2026-12-01T09:00:00.250Z',
    );
  });

  it('a naive time in a DST gap or overlap follows the fixed-time cron rules', () => {
    const gap = parseSchedule({ value: '2026-03-08T02:30', timezone: 'America/New_York' });
    expect(gap.value).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT, when the clock jumps
    const overlap = parseSchedule({ value: '2026-11-01T01:30', timezone: 'America/New_York' });
    expect(overlap.value).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT, the first pass
  });

  it('a date alone is midnight in the zone', () => {
    expect(parseSchedule({ value: '2026-12-01', timezone: 'Asia/Tokyo' }).value).toBe(
      '2026-11-30T15:00:00.000Z',
    );
  });
});

describe('occurrencesBetween', () => {
  it('counts (from, to] for cron, exact and capped', () => {
    const s = parseSchedule({ value: '0 * * * *', timezone: 'UTC' });
    const o = occurrencesBetween(
      s,
      at('2026-01-01T00:00:00Z'),
      at('2026-01-02T00:00:00Z'),
      undefined,
      5,
    );
    expect(o.total).toBe(24);
    expect(o.exact).toBe(true);
    expect(iso(o.times)[0]).toBe('2026-01-01T01:00:00.000Z');
    expect(o.times).toHaveLength(5);
    expect(iso(o.latest)).toEqual([
      '2026-01-01T20:00:00.000Z',
      '2026-01-01T21:00:00.000Z',
      '2026-01-01T22:00:00.000Z',
      '2026-01-01T23:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
  });

  it('handles latest overlapping times when the total is just above cap', () => {
    const s = parseSchedule({ value: '0 * * * *', timezone: 'UTC' });
    const o = occurrencesBetween(
      s,
      at('2026-01-01T00:00:00Z'),
      at('2026-01-01T04:00:00Z'),
      undefined,
      3,
    );
    expect(o.total).toBe(4);
    expect(iso(o.latest)).toEqual([
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T04:00:00.000Z',
    ]);
  });

  it('interval windows are arithmetic, anchored, exact', () => {
    const s = parseSchedule({ value: '15m', timezone: 'UTC' });
    const anchor = at('2026-01-01T00:05:00Z');
    const o = occurrencesBetween(
      s,
      at('2026-01-01T00:00:00Z'),
      at('2026-01-08T00:00:00Z'),
      anchor,
      2,
    );
    expect(o.total).toBe(7 * 96);
    expect(iso(o.times)).toEqual(['2026-01-01T00:05:00.000Z', '2026-01-01T00:20:00.000Z']);
    expect(iso(o.latest)).toEqual(['2026-01-07T23:35:00.000Z', '2026-01-07T23:50:00.000Z']);
  });

  it('once is in the window only if from < at <= to', () => {
    const s = parseSchedule({ value: '2026-12-01T09:00:00Z', timezone: 'UTC' });
    expect(
      occurrencesBetween(s, at('2026-12-01T08:00:00Z'), at('2026-12-01T09:00:00Z')).total,
    ).toBe(1);
    expect(
      occurrencesBetween(s, at('2026-12-01T09:00:00Z'), at('2026-12-01T10:00:00Z')).total,
    ).toBe(0);
  });

  it('counts a month of a per-minute cron exactly', () => {
    const s = parseSchedule({ value: '* * * * *', timezone: 'Europe/Berlin' });
    const o = occurrencesBetween(s, at('2026-03-01T00:00:00Z'), at('2026-04-01T00:00:00Z'));
    // Every real minute has exactly one wall-clock minute, DST change or not.
    expect(o.total).toBe(31 * 24 * 60);
    expect(o.exact).toBe(true);
    expect(o.latest.at(-1)?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });
});
