import { formatDuration } from './interval.js';
import type { Schedule } from './schedule.js';
import { formatWallTime } from './time-zone.js';

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBREVIATIONS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const isNumber = (field: string | undefined): field is string =>
  field !== undefined && /^\d+$/.test(field);
const pad = (field: string): string => field.padStart(2, '0');

/** "MON-FRI" → "Monday to Friday", "1,3" → "Monday and Wednesday", "6" → "Saturday". */
function weekdays(field: string): string | null {
  const dayName = (token: string): string | undefined => {
    const index = /^\d+$/.test(token) ? Number(token) % 7 : DAY_ABBREVIATIONS.indexOf(token);
    return DAY_NAMES[index];
  };
  const range = /^(\w+)-(\w+)$/.exec(field);
  if (range) {
    const [from, to] = [dayName(range[1] ?? ''), dayName(range[2] ?? '')];
    return from && to ? `${from} to ${to}` : null;
  }
  const names = field.split(',').map(dayName);
  if (names.some((n) => n === undefined)) return null;
  return names.length === 1
    ? (names[0] ?? null)
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Human text for a canonical cron pattern, or null when it is not one of the common shapes. */
function describeCron(pattern: string): string | null {
  const f = pattern.split(' ');
  if (f.length !== 5) return null;
  const [minute, hour, dom, month, dow] = f as [string, string, string, string, string];
  if (month !== '*') return null;
  const step = (field: string): number | null => {
    const m = /^\*\/(\d+)$/.exec(field);
    return m ? Number(m[1]) : null;
  };
  if (dom === '*' && dow === '*') {
    if (minute === '*' && hour === '*') return 'every minute';
    const minuteStep = step(minute);
    if (minuteStep !== null && hour === '*') return `every ${minuteStep} minutes`;
    if (isNumber(minute) && hour === '*') return `every hour at :${pad(minute)}`;
    const hourStep = step(hour);
    if (isNumber(minute) && hourStep !== null) {
      return `every ${hourStep} hours at :${pad(minute)}`;
    }
  }
  if (!isNumber(minute) || !isNumber(hour)) return null;
  const at = `at ${pad(hour)}:${pad(minute)}`;
  if (dom === '*' && dow === '*') return `every day ${at}`;
  if (dom === '*') {
    const days = weekdays(dow);
    return days ? `every ${days} ${at}` : null;
  }
  if (dow === '*' && isNumber(dom)) return `on day ${dom} of every month ${at}`;
  if (dow === '*' && dom === 'L') return `on the last day of every month ${at}`;
  return null;
}

/**
 * Short human text for a canonical schedule, for confirmations and listings, e.g.
 * "every day at 09:00 (Europe/Berlin)", "every Monday to Friday at 08:30 (UTC)",
 * "every 1h 30m", "once at 2026-12-01 09:00 (Asia/Tokyo)", or for less common cron shapes
 * 'cron "0 9 1-7 * MON" (UTC)'. Never throws for a schedule made by parseSchedule.
 */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.type) {
    case 'interval':
      return `every ${formatDuration(Number(schedule.value))}`;
    case 'once':
      return `once at ${formatWallTime(schedule.timezone, Date.parse(schedule.value))} (${schedule.timezone})`;
    case 'cron': {
      const text = describeCron(schedule.value) ?? `cron "${schedule.value}"`;
      return `${text} (${schedule.timezone})`;
    }
  }
}
