/**
 * The errors of schedules and of task requests, with the codes callers map them by. Below
 * everything that validates a schedule or serves a task, so each can throw them.
 */

/** What was wrong with a schedule input; lets callers map the error without parsing text. */
export type ScheduleErrorCode =
  | 'invalid_timezone'
  | 'invalid_cron'
  | 'invalid_interval'
  | 'invalid_time'
  | 'unrecognised_schedule'
  | 'never_fires'
  | 'invalid_missed_policy';

/**
 * A schedule (or missed-run policy) that cannot be used as given. The message names the
 * offending value and the forms that are accepted, so it can be shown to the user as is.
 */
export class ScheduleError extends Error {
  constructor(
    readonly code: ScheduleErrorCode,
    /** The value the user gave, unchanged. */
    readonly value: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleError';
  }
}

/** Forms accepted for each schedule type, quoted in error messages. */
export const EXPECTED_FORMS = {
  cron:
    'a cron expression with 5 fields "min hour day month weekday" (e.g. "0 8 * * 1") or ' +
    '6 fields with seconds first (e.g. "30 0 8 * * *"), or @hourly/@daily/@weekly/@monthly/@yearly',
  interval:
    'an interval such as "30s", "15m", "2h", "1d", "1h30m", an ISO 8601 duration such as ' +
    '"PT15M", or a whole number of milliseconds such as 3600000',
  once:
    'an ISO 8601 time such as "2026-12-01T09:00" (read in the task\'s time zone) or ' +
    '"2026-12-01T09:00:00+01:00" / "2026-12-01T08:00:00Z" (explicit offset)',
  timezone: 'an IANA time zone name such as "Europe/Berlin", "America/New_York" or "UTC"',
} as const;

/** Quote a user value for an error message, keeping it short. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

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
