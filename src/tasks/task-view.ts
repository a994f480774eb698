/** How tasks are shown: one task (API, CLI, agent tools), and the due tasks in status. */
import { describeSchedule } from '../schedule/describe.js';
import { DEFAULT_ALL_CAP } from '../schedule/missed-policy.js';
import { scheduleOf, type Schedule } from '../schedule/schedule.js';
import { isoInZone } from '../schedule/time-zone.js';
import type { Store } from '../store/store.js';
import type { TaskRecord } from '../store/tasks.js';

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

export function toTaskView(t: TaskRecord, now: number): TaskView {
  const schedule = scheduleOf(t);
  return {
    id: t.id,
    group: t.group,
    chat: t.chatId,
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

/** The scheduled tasks' part of `clawpod status` / `GET /api/status`. */
export interface DueTasks {
  byStatus: Record<string, number>;
  /** The next active tasks by due time, earliest first. */
  due: Array<{
    id: string;
    group: string;
    description: string;
    nextRunAt: number;
    /** The same instant in the task's zone, ISO 8601 with offset. */
    nextRun: string;
    /** A run of it is in progress. */
    running: boolean;
  }>;
}

/** Reads the task summary straight from the store (works without a running daemon). */
export function dueTasks(store: Store, limit = 5): DueTasks {
  const { tasks } = store;
  return {
    byStatus: tasks.countByStatus(),
    due: tasks.upcoming(limit).map((t) => ({
      id: t.id,
      group: t.group,
      description: describeSchedule(scheduleOf(t)),
      nextRunAt: t.nextRunAt!,
      nextRun: isoInZone(t.nextRunAt!, t.timezone),
      running: t.leaseOwner !== null,
    })),
  };
}
