import type { TaskRecord } from '../store/tasks.js';
import { DEFAULT_ALL_CAP } from './missed-policy.js';
import { describeSchedule, type Schedule } from './schedule.js';
import { offsetAt, wallTimeAt } from './time-zone.js';

/**
 * A task as the API, the CLI (`--json`) and the agent tools show it. Times are UTC epoch
 * milliseconds; `nextRun` is the same instant as `nextRunAt` written in the task's zone.
 */
export interface TaskView {
  id: string;
  group: string;
  /** Where output goes; null: the group's first chat. */
  chat: string | null;
  prompt: string;
  type: Schedule['type'];
  /** Canonical schedule value (normalised cron, interval ms, once instant as UTC ISO). */
  value: string;
  timezone: string;
  /** e.g. "every Monday at 08:00 (Europe/Berlin)". */
  description: string;
  contextMode: TaskRecord['contextMode'];
  missedPolicy: TaskRecord['missedPolicy'];
  /** Catch-up runs for the `all` policy (null otherwise). */
  missedCap: number | null;
  status: TaskRecord['status'];
  nextRunAt: number | null;
  /** ISO 8601 with the zone's offset, e.g. "2026-12-07T08:00:00+01:00"; null when none. */
  nextRun: string | null;
  lastRunAt: number | null;
  /** A run of this task is claimed or in progress (its lease is held). */
  running: boolean;
  consecutiveFailures: number;
  preCheck: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export const scheduleOf = (t: Pick<TaskRecord, 'type' | 'value' | 'timezone'>): Schedule => ({
  type: t.type,
  value: t.value,
  timezone: t.timezone,
});

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

export function toTaskView(t: TaskRecord, now: number): TaskView {
  const schedule = scheduleOf(t);
  return {
    id: t.id,
    group: t.group,
    chat: t.chatJid,
    prompt: t.prompt,
    type: t.type,
    value: t.value,
    timezone: t.timezone,
    description: describeSchedule(schedule),
    contextMode: t.contextMode,
    missedPolicy: t.missedPolicy,
    missedCap: t.missedPolicy === 'all' ? (t.missedCap ?? DEFAULT_ALL_CAP) : null,
    status: t.status,
    nextRunAt: t.status === 'active' ? t.nextRunAt : null,
    nextRun:
      t.status === 'active' && t.nextRunAt !== null ? isoInZone(t.nextRunAt, t.timezone) : null,
    lastRunAt: t.lastRunAt,
    running: t.leaseOwner !== null && (t.leaseExpiresAt ?? 0) > now,
    consecutiveFailures: t.consecutiveFailures,
    preCheck: t.preCheck,
    createdBy: t.createdBy,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}
