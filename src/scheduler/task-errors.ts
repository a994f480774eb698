/** Why a task request was refused; `code` maps to an HTTP status (see TASK_ERROR_STATUS). */
export type TaskErrorCode = 'invalid' | 'not_found' | 'forbidden' | 'conflict' | 'unavailable';

/**
 * A task request that cannot be done as asked. The message says what to do instead and is
 * safe to show to the user (or the agent) as is. `detail` carries a finer code, e.g. the
 * ScheduleError code (`invalid_cron`, `invalid_timezone`, …) for a bad schedule.
 */
export class TaskError extends Error {
  constructor(
    readonly code: TaskErrorCode,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

export const TASK_ERROR_STATUS = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
} as const satisfies Record<TaskErrorCode, number>;
