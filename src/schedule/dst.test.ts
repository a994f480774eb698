/**
 * DST behaviour of cron schedules (rules in schedule.ts / cron.ts), 2026 transitions:
 * - America/New_York: 8 Mar 02:00 EST → 03:00 EDT (07:00Z); 1 Nov 02:00 EDT → 01:00 EST (06:00Z)
 * - Europe/London:    29 Mar 01:00 GMT → 02:00 BST (01:00Z); 25 Oct 02:00 BST → 01:00 GMT (01:00Z)
 * - Australia/Lord_Howe (30-minute shift): 5 Apr 02:00 → 01:30 (15:00Z on 4 Apr);
 *                     4 Oct 02:00 → 02:30 (15:30Z on 3 Oct)
 */
import { describe, expect, it } from 'vitest';
import { countCronRuns, cronNextAfter } from './cron.js';
import { occurrencesBetween, parseSchedule } from './schedule.js';
import { formatWallTime } from './time-zone.js';

const at = (iso: string): Date => new Date(iso);

/** Fire times in (from, to], walked one nextRun at a time (croner in the zone). */
function runsBetween(value: string, timezone: string, from: string, to: string): Date[] {
  const s = parseSchedule({ value, timezone });
  const end = at(to).getTime();
  const out: Date[] = [];
  let cursor = at(from).getTime();
  for (;;) {
    const next = cronNextAfter(s.value, s.timezone, cursor);
    if (next === null || next > end) return out;
    out.push(new Date(next));
    cursor = next;
  }
}

const localDay = (zone: string, d: Date): string => formatWallTime(zone, d.getTime()).slice(0, 10);
const local = (zone: string, d: Date): string => formatWallTime(zone, d.getTime());

describe('fall back: a fixed-time job in the repeated hour fires exactly once', () => {
  it.each([
    ['America/New_York', '30 1 * * *', '2026-11-01', ['2026-11-01T05:30:00.000Z']],
    ['Europe/London', '30 1 * * *', '2026-10-25', ['2026-10-25T00:30:00.000Z']],
    ['Australia/Lord_Howe', '45 1 * * *', '2026-04-05', ['2026-04-04T14:45:00.000Z']],
    ['America/New_York', '0 30 1 * * *', '2026-11-01', ['2026-11-01T05:30:00.000Z']],
    [
      'America/New_York',
      '30 1,13 * * *',
      '2026-11-01',
      ['2026-11-01T05:30:00.000Z', '2026-11-01T18:30:00.000Z'],
    ],
  ])('%s %s on %s: first pass only', (zone, cron, day, expected) => {
    const runs = runsBetween(cron, zone, '2026-03-30T00:00:00Z', '2026-11-30T00:00:00Z');
    const onDay = runs.filter((d) => localDay(zone, d) === day);
    expect(onDay.map((d) => d.toISOString())).toEqual(expected);
  });

  it('a wildcard job follows elapsed time: both passes of the repeated hour', () => {
    const runs = runsBetween(
      '*/30 * * * *',
      'America/New_York',
      '2026-11-01T04:45:00Z',
      '2026-11-01T07:00:00Z',
    );
    expect(runs.map((d) => `${d.toISOString()} ${local('America/New_York', d)}`)).toEqual([
      '2026-11-01T05:00:00.000Z 2026-11-01 01:00',
      '2026-11-01T05:30:00.000Z 2026-11-01 01:30',
      '2026-11-01T06:00:00.000Z 2026-11-01 01:00',
      '2026-11-01T06:30:00.000Z 2026-11-01 01:30',
      '2026-11-01T07:00:00.000Z 2026-11-01 02:00',
    ]);
  });
});

describe('spring forward: a fixed-time job in the gap fires once, when the clock jumps', () => {
  it.each([
    ['America/New_York', '30 2 * * *', '2026-03-07T12:00:00Z', '2026-03-08T07:00:00.000Z', '03:00'],
    ['Europe/London', '30 1 * * *', '2026-03-28T12:00:00Z', '2026-03-29T01:00:00.000Z', '02:00'],
    [
      'Australia/Lord_Howe',
      '15 2 * * *',
      '2026-10-03T00:00:00Z',
      '2026-10-03T15:30:00.000Z',
      '02:30',
    ],
    [
      'America/New_York',
      '15,45 2 * * *',
      '2026-03-07T12:00:00Z',
      '2026-03-08T07:00:00.000Z',
      '03:00',
    ],
  ])('%s %s → %s (%s local)', (zone, cron, from, expected, wall) => {
    const [first] = runsBetween(cron, zone, from, '2026-12-31T00:00:00Z');
    expect(first?.toISOString()).toBe(expected);
    expect(local(zone, first ?? new Date(0)).slice(11)).toBe(wall);
  });

  it('a wildcard job has nothing in the gap but keeps its elapsed-time spacing', () => {
    const runs = runsBetween(
      '*/30 * * * *',
      'America/New_York',
      '2026-03-08T06:00:00Z',
      '2026-03-08T08:00:00Z',
    );
    expect(runs.map((d) => local('America/New_York', d))).toEqual([
      '2026-03-08 01:30',
      '2026-03-08 03:00',
      '2026-03-08 03:30',
      '2026-03-08 04:00',
    ]);
  });
});

describe('a daily fixed-time job runs exactly once every local day of the year', () => {
  it.each([
    ['America/New_York', '30 2 * * *'],
    ['America/New_York', '30 1 * * *'],
    ['Europe/London', '30 1 * * *'],
    ['Australia/Lord_Howe', '15 2 * * *'],
    ['Australia/Lord_Howe', '45 1 * * *'],
  ])('%s %s', (zone, cron) => {
    const runs = runsBetween(cron, zone, '2025-12-30T00:00:00Z', '2027-01-02T00:00:00Z');
    const days = runs.map((d) => localDay(zone, d));
    expect(new Set(days).size).toBe(days.length); // no day twice
    const year = days.filter((d) => d.startsWith('2026-'));
    expect(year).toHaveLength(365); // no day skipped
  });
});

describe('fast cron counting agrees with step-by-step walking across DST changes', () => {
  const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe'];
  const patterns = [
    '0 * * * *',
    '*/30 * * * *',
    '30 1 * * *',
    '30 2 * * *',
    '15,45 1,2 * * *',
    '0,30 30 1 * * *',
  ];
  const windows: Array<[string, string]> = [
    ['2026-02-25T00:00:00Z', '2026-04-12T00:00:00Z'],
    ['2026-09-25T00:00:00Z', '2026-11-08T00:00:00Z'],
  ];
  for (const zone of zones) {
    it(zone, () => {
      for (const pattern of patterns) {
        const canonical = parseSchedule({ value: pattern, timezone: zone }).value;
        for (const [from, to] of windows) {
          const slow = runsBetween(pattern, zone, from, to).length;
          const fast = countCronRuns(canonical, zone, at(from).getTime(), at(to).getTime(), 1e9);
          expect({ pattern, from, count: fast.count }).toEqual({ pattern, from, count: slow });
        }
      }
    });
  }

  it('occurrencesBetween: times, latest and total match a full walk', () => {
    const zone = 'Australia/Lord_Howe';
    const from = '2026-03-20T00:00:00Z';
    const to = '2026-04-20T00:00:00Z';
    const all = runsBetween('*/30 * * * *', zone, from, to);
    const o = occurrencesBetween(
      parseSchedule({ value: '*/30 * * * *', timezone: zone }),
      at(from),
      at(to),
      undefined,
      50,
    );
    expect(o.total).toBe(all.length);
    expect(o.times).toEqual(all.slice(0, 50));
    expect(o.latest).toEqual(all.slice(-50));
  });

  it('walking forward never repeats or goes back', () => {
    for (const zone of zones) {
      let t = at('2026-01-01T00:00:00Z').getTime();
      for (let i = 0; i < 2000; i++) {
        const next = cronNextAfter('0 1,2 * * *', zone, t);
        expect(next).not.toBeNull();
        expect(next ?? 0).toBeGreaterThan(t);
        t = next ?? 0;
      }
    }
  });
});
