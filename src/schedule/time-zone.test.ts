import { describe, expect, it } from 'vitest';
import { ScheduleError } from './errors.js';
import {
  canonicalTimeZone,
  instantFromWallTime,
  offsetAt,
  offsetChanges,
  type WallTime,
} from './time-zone.js';

const wall = (text: string): WallTime => {
  const [date = '', time = ''] = text.split('T');
  const [year = 0, month = 0, day = 0] = date.split('-').map(Number);
  const [hour = 0, minute = 0] = time.split(':').map(Number);
  return { year, month, day, hour, minute, second: 0, millisecond: 0 };
};
const instant = (zone: string, text: string): string =>
  new Date(instantFromWallTime(zone, wall(text))).toISOString();

describe('canonicalTimeZone', () => {
  it('fixes case and accepts UTC', () => {
    expect(canonicalTimeZone('europe/london')).toBe('Europe/London');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
  });

  it.each(['Nowhere/Special', '', '+05:00', '-0800'])('refuses %j', (zone) => {
    expect(() => canonicalTimeZone(zone)).toThrow(ScheduleError);
  });
});

describe('instantFromWallTime', () => {
  it('an ordinary time', () => {
    expect(instant('Asia/Tokyo', '2026-12-01T09:00')).toBe('2026-12-01T00:00:00.000Z');
  });

  it('a time skipped by spring forward resolves to the jump', () => {
    expect(instant('America/New_York', '2026-03-08T02:30')).toBe('2026-03-08T07:00:00.000Z');
    expect(instant('Europe/London', '2026-03-29T01:30')).toBe('2026-03-29T01:00:00.000Z');
    expect(instant('Australia/Lord_Howe', '2026-10-04T02:15')).toBe('2026-10-03T15:30:00.000Z');
  });

  it('a repeated time resolves to its first occurrence', () => {
    expect(instant('America/New_York', '2026-11-01T01:30')).toBe('2026-11-01T05:30:00.000Z');
    expect(instant('Europe/London', '2026-10-25T01:30')).toBe('2026-10-25T00:30:00.000Z');
    expect(instant('Australia/Lord_Howe', '2026-04-05T01:45')).toBe('2026-04-04T14:45:00.000Z');
  });
});

describe('offsets', () => {
  it('finds the exact changes of a year', () => {
    const changes = offsetChanges(
      'Australia/Lord_Howe',
      Date.parse('2026-01-01T00:00:00Z'),
      Date.parse('2027-01-01T00:00:00Z'),
    ).map((t) => new Date(t).toISOString());
    expect(changes).toEqual(['2026-04-04T15:00:00.000Z', '2026-10-03T15:30:00.000Z']);
    expect(offsetAt('Australia/Lord_Howe', Date.parse('2026-06-01T00:00:00Z'))).toBe(
      10.5 * 3_600_000,
    );
  });
});
