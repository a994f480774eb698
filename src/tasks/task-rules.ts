/**
 * What every task surface accepts and the checks it shares: the input schemas (zod; the IPC
 * task file maps its snake_case keys onto them), authorisation, and the checks that refuse a
 * task with a TaskError saying what to do.
 */
import { z } from 'zod';
import { TaskError, ScheduleError } from '../schedule/errors.js';
import { MAX_ALL_CAP } from '../schedule/missed-policy.js';
import { nextRun, type Schedule } from '../schedule/schedule.js';
import { isoInZone } from '../schedule/time-zone.js';
import { chatIdSchema, folderNameSchema, type Group } from '../store/group-schema.js';

/** A task id: letters, digits, `-` and `_`, starting with a letter or digit (1-64). */
export const taskIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'letters, digits, - and _ (1-64, starting with a letter or digit)',
  );

export const scheduleTypes = ['cron', 'interval', 'once'] as const;
export const contextModes = ['group', 'isolated'] as const;
export const missedPolicies = ['skip', 'latest', 'all'] as const;

const scheduleValue = z.union([
  z.string().trim().min(1, 'a schedule is required').max(200),
  z.number().int().positive(),
]);

/**
 * What a caller gives to create a task (API body, CLI, the IPC task file after task-file.ts
 * mapped its snake_case keys). Unknown keys are an error.
 * - group: the task's group; default the caller's own group.
 * - schedule: a cron expression, an interval ("15m", "PT1H", 3600000) or an ISO time;
 *   `type` forces the reading, else it is inferred from the shape.
 * - timezone: IANA zone for cron and naive once times; default the configured zone.
 * - chat: where output goes (a chat bound to the group); default the group's first chat.
 * - contextMode: `isolated` (default; fresh session, own lane) or `group` (the group's session).
 * - missedPolicy: `latest` (default), `skip` or `all` (with missedCap, default 10).
 * - id: makes creation idempotent: the same id from the same group returns the existing task.
 * - preCheck: a script run in the sandbox before the model; needs a sandbox runtime.
 */
export const taskInputSchema = z.strictObject({
  id: taskIdSchema.optional(),
  group: folderNameSchema.optional(),
  prompt: z.string().trim().min(1, 'a prompt is required').max(100_000),
  schedule: scheduleValue,
  type: z.enum(scheduleTypes).optional(),
  timezone: z.string().trim().min(1).max(100).optional(),
  chat: chatIdSchema.optional(),
  contextMode: z.enum(contextModes).optional(),
  missedPolicy: z.enum(missedPolicies).optional(),
  missedCap: z.number().int().min(1).max(MAX_ALL_CAP).optional(),
  preCheck: z.string().min(1).max(20_000).optional(),
});
export type TaskInput = z.infer<typeof taskInputSchema>;

/**
 * A change to an existing task (API PATCH body). `chat: null` returns to the group's first
 * chat; `missedCap: null` to the default cap; `preCheck: null` removes the script.
 * Changing schedule, type or timezone recomputes the next run from now.
 */
export const taskPatchSchema = z
  .strictObject({
    prompt: z.string().trim().min(1).max(100_000),
    schedule: scheduleValue,
    type: z.enum(scheduleTypes),
    timezone: z.string().trim().min(1).max(100),
    chat: chatIdSchema.nullable(),
    contextMode: z.enum(contextModes),
    missedPolicy: z.enum(missedPolicies),
    missedCap: z.number().int().min(1).max(MAX_ALL_CAP).nullable(),
    preCheck: z.string().min(1).max(20_000).nullable(),
  })
  .partial();
export type TaskPatchInput = z.infer<typeof taskPatchSchema>;

/** `{path}: {message}` of the first issue, for error messages. */
export function firstIssue(err: z.ZodError): string {
  const i = err.issues[0]!;
  const path = i.path.map(String).join('.');
  if (i.code === 'unrecognized_keys') return `unknown key(s): ${i.keys.join(', ')}`;
  return `${path || 'body'}: ${i.message}`;
}

/** Who asks; see TaskService. */
export interface Actor {
  group: string;
  isMain: boolean;
  /** How the request came in (api, cli, ipc, mcp…), recorded in created_by. */
  via?: string;
}

/** Runs `fn`, turning a ScheduleError (bad schedule or missed policy) into TaskError('invalid'). */
export function scheduleGuard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ScheduleError) throw new TaskError('invalid', err.message, err.code);
    throw err;
  }
}

/** A non-main group acts only on its own tasks; main on every group's. */
export function mayManage(actor: Actor, group: string): boolean {
  return actor.isMain || group === actor.group;
}

/** Refuses a group named by the actor itself (nothing is revealed: the actor said the name). */
export function authorise(actor: Actor, group: string): void {
  if (!mayManage(actor, group)) {
    throw new TaskError(
      'forbidden',
      `group "${actor.group}" may only manage its own tasks, not those of group "${group}" (only main may)`,
    );
  }
}

/**
 * The answer about a task id that does not exist, and equally about one the actor may not see:
 * a group must not learn another group's task ids or owners by asking.
 */
export function noSuchTask(id: string): TaskError {
  return new TaskError('not_found', `no task "${id}" (clawpod tasks list)`);
}

/** The first due time after `now`; refuses a once time that is not in the future. */
export function firstRunAt(schedule: Schedule, now: number): number {
  const first = scheduleGuard(() => nextRun(schedule, new Date(now)));
  if (first === null) {
    throw new TaskError(
      'invalid',
      schedule.type === 'once'
        ? `${isoInZone(Date.parse(schedule.value), schedule.timezone)} is in the past: a once task needs a future time`
        : 'this schedule has no future fire time',
      'in_the_past',
    );
  }
  return first.getTime();
}

/** Output goes to a chat bound to the task's group; without one given, the group needs a chat. */
export function checkChat(group: Group, chat: string | null): void {
  if (chat === null) {
    if (group.chats.length === 0) {
      throw new TaskError(
        'invalid',
        `group "${group.folder}" has no chat for the task's output: bind one (clawpod groups bind ${group.folder} <chat>) or give a chat`,
      );
    }
    return;
  }
  if (!group.chats.includes(chat)) {
    throw new TaskError(
      'invalid',
      `chat ${chat} is not bound to group "${group.folder}" (its chats: ${group.chats.join(', ') || 'none'})`,
    );
  }
}

/**
 * Pre-check scripts run in the sandbox; until a pre-check hook exists (the sandbox layer
 * provides it) a task with one is refused at creation rather than failing at run time.
 */
export function checkPreCheck(script: string | null | undefined, available: boolean): void {
  if (script !== undefined && script !== null && !available) {
    throw new TaskError(
      'invalid',
      'pre-check scripts run inside the sandbox, and this clawpod build cannot run them yet: create the task without a pre-check',
      'pre_check_unavailable',
    );
  }
}
