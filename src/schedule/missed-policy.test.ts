import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MISSED_POLICY,
  MISSED_RECORD_LIMIT,
  parseMissedPolicy,
  planMissedRuns,
  type MissedPolicy,
} from './missed-policy.js';
import { ScheduleError } from './errors.js';
import { parseSchedule } from './schedule.js';

const at = (iso: string): Date => new Date(iso);
const hourly = parseSchedule({ value: '0 * * * *', timezone: 'Europe/Berlin' });

/** Host down from 1 Jun 09:30Z to 4 Jun 09:30Z; next_run_at was 1 Jun 10:00Z: 72 hourly runs missed. */
const outage = {
  schedule: hourly,
  nextRunAt: at('2026-06-01T10:00:00Z'),
  now: at('2026-06-04T09:30:00Z'),
};

describe('planMissedRuns after a 3-day outage of an hourly cron', () => {
  it('skip: 72 missed, none run, next run after now', () => {
    const plan = planMissedRuns({ ...outage, policy: { kind: 'skip' } });
    expect(plan.missed).toHaveLength(72);
    expect(plan.missedTotal).toBe(72);
    expect(plan.missed[0]).toEqual(at('2026-06-01T10:00:00Z'));
    expect(plan.missed.at(-1)).toEqual(at('2026-06-04T09:00:00Z'));
    expect(plan.catchUp).toEqual([]);
    expect(plan.nextRunAt).toEqual(at('2026-06-04T10:00:00Z'));
  });

  it('latest (the default): 71 missed, the most recent one runs', () => {
    const plan = planMissedRuns({ ...outage, policy: DEFAULT_MISSED_POLICY });
    expect(plan.missed).toHaveLength(71);
    expect(plan.missedTotal).toBe(71);
    expect(plan.catchUp).toEqual([at('2026-06-04T09:00:00Z')]);
    expect(plan.missed.at(-1)).toEqual(at('2026-06-04T08:00:00Z'));
    expect(plan.nextRunAt).toEqual(at('2026-06-04T10:00:00Z'));
  });

  it('all with cap 10: the 62 oldest missed, the 10 most recent run oldest first', () => {
    const plan = planMissedRuns({ ...outage, policy: { kind: 'all', cap: 10 } });
    expect(plan.missed).toHaveLength(62);
    expect(plan.missedTotal).toBe(62);
    expect(plan.catchUp).toHaveLength(10);
    expect(plan.catchUp[0]).toEqual(at('2026-06-04T00:00:00Z'));
    expect(plan.catchUp.at(-1)).toEqual(at('2026-06-04T09:00:00Z'));
    expect(plan.missed.at(-1)).toEqual(at('2026-06-03T23:00:00Z'));
    expect(plan.nextRunAt).toEqual(at('2026-06-04T10:00:00Z'));
  });

  it('every due occurrence is either run or missed, and none can come due again', () => {
    const policies: MissedPolicy[] = [
      { kind: 'skip' },
      { kind: 'latest' },
      { kind: 'all', cap: 10 },
    ];
    for (const policy of policies) {
      const plan = planMissedRuns({ ...outage, policy });
      const all = [...plan.missed, ...plan.catchUp].map((d) => d.getTime()).sort((a, b) => a - b);
      expect(new Set(all).size).toBe(72);
      expect(Math.max(...all)).toBeLessThanOrEqual(outage.now.getTime());
      expect(plan.nextRunAt?.getTime()).toBeGreaterThan(outage.now.getTime());
    }
  });
});

describe('planMissedRuns edge cases', () => {
  it('skip still runs a due time within the grace period (late, not missed)', () => {
    const now = at('2026-06-04T09:00:30Z');
    const plan = planMissedRuns({ ...outage, now, policy: { kind: 'skip' } });
    expect(plan.catchUp).toEqual([at('2026-06-04T09:00:00Z')]);
    expect(plan.missedTotal).toBe(71);
    const strict = planMissedRuns({ ...outage, now, policy: { kind: 'skip' }, graceMs: 0 });
    expect(strict.catchUp).toEqual([]);
    expect(strict.missedTotal).toBe(72);
  });

  it('nothing due: empty plan, next_run_at unchanged', () => {
    const nextRunAt = at('2026-06-04T10:00:00Z');
    const plan = planMissedRuns({ ...outage, nextRunAt, policy: { kind: 'latest' } });
    expect(plan).toEqual({ missed: [], missedTotal: 0, missedExact: true, catchUp: [], nextRunAt });
  });

  it('all with a cap above the number missed runs them all', () => {
    const now = at('2026-06-01T12:30:00Z');
    const plan = planMissedRuns({ ...outage, now, policy: { kind: 'all', cap: 10 } });
    expect(plan.catchUp).toHaveLength(3);
    expect(plan.missed).toEqual([]);
    expect(plan.missedTotal).toBe(0);
  });

  it('a missed once task: latest runs it, skip records it; either way it is finished', () => {
    const once = parseSchedule({ value: '2026-06-02T08:00', timezone: 'Asia/Tokyo' });
    const input = { schedule: once, nextRunAt: at('2026-06-01T23:00:00Z'), now: outage.now };
    const latest = planMissedRuns({ ...input, policy: { kind: 'latest' } });
    expect(latest.catchUp).toEqual([at('2026-06-01T23:00:00Z')]);
    expect(latest.nextRunAt).toBeNull();
    const skip = planMissedRuns({ ...input, policy: { kind: 'skip' } });
    expect(skip.missed).toEqual([at('2026-06-01T23:00:00Z')]);
    expect(skip.nextRunAt).toBeNull();
  });

  it('an interval keeps its grid through the outage', () => {
    const every = parseSchedule({ value: '1h', timezone: 'UTC' });
    const anchor = at('2026-05-01T00:15:00Z');
    const plan = planMissedRuns({
      schedule: every,
      policy: { kind: 'latest' },
      nextRunAt: at('2026-06-01T10:15:00Z'),
      now: outage.now,
      anchor,
    });
    expect(plan.missedTotal).toBe(71);
    expect(plan.catchUp).toEqual([at('2026-06-04T09:15:00Z')]);
    expect(plan.nextRunAt).toEqual(at('2026-06-04T10:15:00Z'));
  });

  it('a long outage of a frequent job lists at most MISSED_RECORD_LIMIT but counts them all', () => {
    const minutely = parseSchedule({ value: '*/5 * * * *', timezone: 'America/New_York' });
    const plan = planMissedRuns({
      schedule: minutely,
      policy: { kind: 'latest' },
      nextRunAt: at('2026-03-01T00:00:00Z'),
      now: at('2026-03-31T00:00:00Z'),
    });
    expect(plan.missed).toHaveLength(MISSED_RECORD_LIMIT);
    expect(plan.missedTotal).toBe(30 * 24 * 12); // 8641 due (both ends included), 1 runs
    expect(plan.missedExact).toBe(true);
    expect(plan.catchUp).toEqual([at('2026-03-31T00:00:00Z')]);
    expect(plan.nextRunAt).toEqual(at('2026-03-31T00:05:00Z'));
  });
});

describe('parseMissedPolicy', () => {
  it('defaults to latest; all defaults to cap 10', () => {
    expect(parseMissedPolicy()).toEqual({ kind: 'latest' });
    expect(parseMissedPolicy(' SKIP ')).toEqual({ kind: 'skip' });
    expect(parseMissedPolicy('all')).toEqual({ kind: 'all', cap: 10 });
    expect(parseMissedPolicy('all', 3)).toEqual({ kind: 'all', cap: 3 });
  });

  it.each([
    ['sometimes', undefined, /"sometimes" is not known.*"skip", "latest" or "all"/],
    ['all', 0, /cap 0 is out of range.*1-100/],
    ['all', 2.5, /cap 2.5 is out of range/],
    ['latest', 3, /cap only applies to the "all"/],
  ])('%s cap %s → ScheduleError', (kind, cap, message) => {
    expect(() => parseMissedPolicy(kind, cap)).toThrow(ScheduleError);
    expect(() => parseMissedPolicy(kind, cap)).toThrow(message);
  });
});
