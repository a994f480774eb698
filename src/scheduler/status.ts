import type { Store } from '../store/store.js';
import { TaskStore } from '../store/tasks.js';
import { describeSchedule } from './schedule.js';
import { isoInZone, scheduleOf } from './task-view.js';

/** The scheduler's part of `clawpod status` / `GET /api/status`. */
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
  const tasks = new TaskStore(store.db);
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
