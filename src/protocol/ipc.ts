import { z } from 'zod';

/**
 * Directory names of a group's IPC queue (host: `$CLAWPOD_HOME/ipc/<group>/`, sandbox:
 * `/workspace/ipc/`). Turn inputs do not travel here: they go on each agent process's stdin.
 */
export const IPC_DIRS = ['requests', 'responses', 'tasks', 'errors'] as const;

/** Largest IPC file either side reads. */
export const MAX_IPC_FILE_BYTES = 256 * 1024;

/** Operations an agent may request. Authorisation is decided by the host from the directory. */
export const requestOps = [
  'send_message',
  'schedule_task',
  'list_tasks',
  'pause_task',
  'resume_task',
  'cancel_task',
  'update_task',
  'list_groups',
  'register_group',
  'search_history',
  'remember',
  'consolidate_memory',
  'approve_tool',
  'delegate',
] as const;

/** agent → host: file `requests/<id>.json`. */
export const requestFileSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'id: 1-64 letters, digits, - or _'),
  op: z.enum(requestOps),
  args: z.record(z.string(), z.unknown()).default({}),
  /**
   * The asking session's token (the MCP server sets it): tells the host which conversation the
   * request belongs to, so tools default to that chat. Authority still comes from the directory.
   */
  session: z.string().max(128).optional(),
});
export type RequestFile = z.infer<typeof requestFileSchema>;

/** host → agent: the response files (zod/mini, shared with the runner's IPC client). */
export {
  pendingAnswerSchema,
  responseFileSchema,
  type PendingAnswer,
  type ResponseFile,
} from './ipc-answers.js';

export const sendMessageArgs = z
  .strictObject({
    text: z.string().max(100_000).default(''),
    chat: z.string().optional(),
    /** A file to upload with the message: a path inside /workspace/group. */
    file: z.string().min(1).max(1024).optional(),
  })
  .refine((a) => a.text.length > 0 || a.file, 'text or file is required');
export const registerGroupArgs = z.strictObject({
  name: z.string(),
  chat: z.string(),
  trigger: z.string().optional(),
  requiresTrigger: z.boolean().optional(),
});

/** Search what was said and done: the group's own chats and runs (main: all). */
export const searchHistoryArgs = z.strictObject({
  query: z.string().min(1, 'query: give at least one word').max(500),
  /** Only this chat (and its threads). */
  chat: z.string().min(1).max(600).optional(),
  /** ISO date or time (the configured zone), or an age: 12h, 7d, 2w. */
  since: z.string().min(1).max(64).optional(),
  until: z.string().min(1).max(64).optional(),
  limit: z.number().int().min(1).max(100).optional(),
});
/** Append a dated fact to the group's memory file (not twice). */
export const rememberArgs = z.strictObject({
  fact: z.string().min(1, 'fact: say what to remember').max(1000),
});
/** Replace the memory file with a consolidated version (the previous one is kept). */
export const consolidateMemoryArgs = z.strictObject({
  content: z.string().min(1, 'content: the complete new memory file').max(200_000),
});
/**
 * `approve_tool`: may the agent use this tool with these arguments? (The Claude permission
 * callback asks it.) Answer `{behavior: 'allow'}` or `{behavior: 'deny', message}`, possibly
 * after a `pending` first answer (see PendingAnswer).
 */
export const approveToolArgs = z.strictObject({
  tool: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()).default({}),
});

/**
 * `delegate`: hand a sub-task to another group's agent (docs/delegation.md). `files` are paths
 * in the caller's /workspace/group copied into the delegation's hand-off folder; `wait: true`
 * answers with the delegate's reply and files, `wait: false` at once with the delegation id
 * (the result comes later as a message in the caller's chat).
 */
export const delegateArgs = z.strictObject({
  group: z.string().min(1, 'group: the folder of the group to delegate to').max(64),
  prompt: z.string().min(1, 'prompt: say what the delegate should do').max(100_000),
  files: z.array(z.string().min(1).max(1024)).max(100).optional(),
  wait: z.boolean().default(true),
  timeoutS: z.number().int().min(1).max(86_400).optional(),
});
export type DelegateArgs = z.infer<typeof delegateArgs>;
