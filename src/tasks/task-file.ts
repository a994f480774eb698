/**
 * The IPC task file: a JSON object dropped into `ipc/<group>/tasks/` by an agent or a host
 * script, e.g. `{"schedule": "0 8 * * 1", "prompt": "compile the changelog"}`. Pure: this
 * module validates and maps the file to a TaskInput; the IPC layer reads the file, calls
 * TaskService.create with the directory's group as the actor, and writes the answer.
 */
import { z } from 'zod';
import { chatIdSchema } from '../store/group-schema.js';
import { ScheduleError } from '../schedule/errors.js';
import { MAX_ALL_CAP } from '../schedule/missed-policy.js';
import { parseSchedule, type Schedule } from '../schedule/schedule.js';
import {
  contextModes,
  firstIssue,
  missedPolicies,
  scheduleTypes,
  taskIdSchema,
  type TaskInput,
} from './task-rules.js';

/** Larger files are refused unread (a prompt is at most 100,000 characters). */
export const MAX_TASK_FILE_BYTES = 256 * 1024;

/**
 * Keys of a task file. `schedule` and `prompt` are required; the rest optional:
 * type (cron | interval | once; inferred when absent), timezone (IANA), context_mode
 * (group | isolated), missed_policy (skip | latest | all), missed_cap (1-100, with all),
 * chat (a chat bound to the group), id (idempotency), pre_check (a sandbox script).
 * The group is never in the file: it is the directory the file was found in.
 */
export const taskFileSchema = z.strictObject({
  schedule: z.union([
    z.string().trim().min(1, 'must not be empty').max(200),
    z.number().int().positive(),
  ]),
  prompt: z.string().trim().min(1, 'must not be empty').max(100_000),
  type: z.enum(scheduleTypes).optional(),
  timezone: z.string().trim().min(1).max(100).optional(),
  context_mode: z.enum(contextModes).optional(),
  missed_policy: z.enum(missedPolicies).optional(),
  missed_cap: z.number().int().min(1).max(MAX_ALL_CAP).optional(),
  chat: chatIdSchema.optional(),
  id: taskIdSchema.optional(),
  pre_check: z.string().min(1).max(20_000).optional(),
});
export type TaskFile = z.infer<typeof taskFileSchema>;

export interface TaskFileContext {
  /** The group whose directory holds the file (the only identity that counts). */
  group: string;
  /** The zone a schedule without `timezone` is read in (the configured zone). */
  defaultTimezone: string;
  /** The file's name; when the payload has no `id`, `<group>-<name without .json>` is used. */
  fileName?: string;
}

export type TaskFileResult =
  | { ok: true; input: TaskInput; schedule: Schedule }
  | { ok: false; code: 'invalid_json' | 'invalid_task' | 'invalid_schedule'; message: string };

/** `<group>-<stem>` cleaned to a valid task id, or undefined when nothing usable is left. */
export function idFromFileName(group: string, fileName: string): string | undefined {
  const base = fileName.replace(/^.*[\\/]/, '');
  const stem = base.replace(/\.json$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-');
  const cleaned = `${group}-${stem}`.replace(/-+/g, '-').replace(/-$/, '').slice(0, 64);
  return stem.replace(/-/g, '') && taskIdSchema.safeParse(cleaned).success ? cleaned : undefined;
}

/**
 * Parses a task file (its text, or an already-parsed value) into a TaskInput for `group`.
 * The schedule is validated here in its zone and the inferred `type` made explicit, so a bad
 * file is refused with a reason before anything is stored. Never throws.
 */
export function parseTaskFile(content: string | unknown, ctx: TaskFileContext): TaskFileResult {
  let raw: unknown = content;
  if (typeof content === 'string') {
    if (Buffer.byteLength(content) > MAX_TASK_FILE_BYTES) {
      return {
        ok: false,
        code: 'invalid_task',
        message: `the task file is over ${MAX_TASK_FILE_BYTES / 1024} KiB`,
      };
    }
    try {
      raw = JSON.parse(content);
    } catch (err) {
      return {
        ok: false,
        code: 'invalid_json',
        message: `the task file is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      };
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      code: 'invalid_task',
      message: 'a task file must be a JSON object such as {"schedule": "0 8 * * 1", "prompt": "…"}',
    };
  }
  if ('group' in raw) {
    return {
      ok: false,
      code: 'invalid_task',
      message: `"group" is not allowed in a task file: the task belongs to the group whose tasks/ directory holds the file (${ctx.group})`,
    };
  }
  const parsed = taskFileSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, code: 'invalid_task', message: firstIssue(parsed.error) };
  }
  const f = parsed.data;
  const timezone = f.timezone ?? ctx.defaultTimezone;
  let schedule: Schedule;
  try {
    schedule = parseSchedule({ type: f.type, value: f.schedule, timezone });
  } catch (err) {
    if (err instanceof ScheduleError) {
      return { ok: false, code: 'invalid_schedule', message: err.message };
    }
    throw err;
  }
  if (f.missed_cap !== undefined && f.missed_policy !== 'all') {
    return {
      ok: false,
      code: 'invalid_task',
      message: 'missed_cap only applies with "missed_policy": "all"',
    };
  }
  const id = f.id ?? (ctx.fileName ? idFromFileName(ctx.group, ctx.fileName) : undefined);
  const input: TaskInput = {
    group: ctx.group,
    prompt: f.prompt,
    schedule: f.schedule,
    type: schedule.type,
    ...(f.timezone !== undefined && { timezone: f.timezone }),
    ...(f.context_mode !== undefined && { contextMode: f.context_mode }),
    ...(f.missed_policy !== undefined && { missedPolicy: f.missed_policy }),
    ...(f.missed_cap !== undefined && { missedCap: f.missed_cap }),
    ...(f.chat !== undefined && { chat: f.chat }),
    ...(id !== undefined && { id }),
    ...(f.pre_check !== undefined && { preCheck: f.pre_check }),
  };
  return { ok: true, input, schedule };
}
