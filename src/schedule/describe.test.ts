import { describe, expect, it } from 'vitest';
import { describeSchedule } from './describe.js';
import { parseSchedule } from './schedule.js';

describe('describeSchedule', () => {
  it.each([
    ['0 9 * * *', 'every day at 09:00 (Europe/Berlin)'],
    ['30 8 * * 1-5', 'every Monday to Friday at 08:30 (Europe/Berlin)'],
    ['0 8 * * MON', 'every Monday at 08:00 (Europe/Berlin)'],
    ['*/15 * * * *', 'every 15 minutes (Europe/Berlin)'],
    ['5 * * * *', 'every hour at :05 (Europe/Berlin)'],
    ['0 9 1 * *', 'on day 1 of every month at 09:00 (Europe/Berlin)'],
    ['0 9 1-7 * MON', 'cron "0 9 1-7 * MON" (Europe/Berlin)'],
    ['1h30m', 'every 1h 30m'],
    ['45s', 'every 45s'],
  ])('%s → %s', (value, text) => {
    expect(describeSchedule(parseSchedule({ value, timezone: 'Europe/Berlin' }))).toBe(text);
  });
});
