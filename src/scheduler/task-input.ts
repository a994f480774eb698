import { z } from 'zod';
import { chatIdSchema, folderNameSchema } from '../groups/group-schema.js';
import { MAX_ALL_CAP } from './missed-policy.js';

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
