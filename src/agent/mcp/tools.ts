import { z } from 'zod';
import type { RequestFile } from '../../protocol/ipc.js';

/** One clawpod tool as the agent sees it: name, description, argument shape, IPC op. */
export interface ToolDef {
  name: RequestFile['op'];
  description: string;
  shape: z.ZodRawShape;
}

const taskFields = {
  prompt: z.string().describe('What the assistant should do when the task fires'),
  schedule: z
    .string()
    .describe(
      'A cron expression ("0 8 * * 1"), an interval ("15m", "2h"), or an ISO time ("2026-12-01T09:00")',
    ),
  type: z
    .enum(['cron', 'interval', 'once'])
    .optional()
    .describe('Inferred from schedule when omitted'),
  timezone: z.string().optional().describe('IANA zone, default the configured one'),
  context_mode: z
    .enum(['group', 'isolated'])
    .optional()
    .describe("group: this chat's session; isolated: a fresh one"),
  missed_policy: z.enum(['skip', 'latest', 'all']).optional(),
  chat: z
    .string()
    .optional()
    .describe('Where the output goes, default the chat of the conversation you are answering'),
};
const taskId = { id: z.string().describe('The task id') };

/** The tools the clawpod MCP server offers; the host decides what each group may do. */
export const TOOLS: ToolDef[] = [
  {
    name: 'send_message',
    description:
      'Send a message to a chat now (default: the chat of the conversation you are answering). Use it for progress updates during long work.',
    shape: {
      text: z.string().describe('The message (may be empty when sending a file)'),
      chat: z.string().optional(),
      file: z.string().optional().describe('A file to attach: a path inside /workspace/group'),
    },
  },
  {
    name: 'schedule_task',
    description:
      'Schedule work through clawpod (survives restarts). Returns the canonical schedule and the next fire times: confirm them to the user.',
    shape: taskFields,
  },
  {
    name: 'list_tasks',
    description: "List this group's scheduled tasks (main: all groups).",
    shape: {},
  },
  { name: 'pause_task', description: 'Pause a scheduled task.', shape: taskId },
  { name: 'resume_task', description: 'Resume a paused task.', shape: taskId },
  { name: 'cancel_task', description: 'Cancel a scheduled task for good.', shape: taskId },
  {
    name: 'update_task',
    description: "Change a task's prompt, schedule or settings.",
    shape: {
      ...taskId,
      ...Object.fromEntries(Object.entries(taskFields).map(([k, v]) => [k, v.optional()])),
    },
  },
  {
    name: 'list_groups',
    description: 'List agent groups and their chats (main group only).',
    shape: {},
  },
  {
    name: 'register_group',
    description: 'Create a group bound to a chat (main group only).',
    shape: {
      name: z.string(),
      chat: z.string(),
      trigger: z.string().optional(),
      requiresTrigger: z.boolean().optional(),
    },
  },
  {
    name: 'search_history',
    description:
      'Search what was said in this group\'s chats and what its runs did, across every past session (main group: all chats, each hit marked with its group). Newest first; each hit has its date, chat, a snippet with the matches in **bold**, and the message seq or run id. Query: words (all must match, case and accents ignored), "exact phrase", prefix*, a OR b, -leave_out.',
    shape: {
      query: z.string().describe('e.g. dentist appointment, "flight number", deploy*'),
      chat: z.string().optional().describe('Only this chat (and its threads)'),
      since: z
        .string()
        .optional()
        .describe('From: an ISO date/time (2026-05-01, 2026-05-01T09:00) or an age (12h, 7d, 2w)'),
      until: z.string().optional().describe('Up to: an ISO date/time (a date counts whole)'),
      limit: z.number().int().min(1).max(100).optional().describe('How many hits, default 20'),
    },
  },
  {
    name: 'remember',
    description:
      'Add one fact worth keeping across sessions to your memory file (CLAUDE.md / AGENTS.md), dated, under "## Remembered". The same fact is not added twice. One short fact per call.',
    shape: {
      fact: z.string().describe('e.g. "Alice prefers meetings after 10:00"'),
    },
  },
  {
    name: 'delegate',
    description:
      "Hand a sub-task to another group's agent (its own harness, model, folder and memory), in a sandbox of its own. wait=true (default): returns its final reply and the files it left in the hand-off folder (copied to /workspace/group/handoff/<delegation>/). wait=false: returns the delegation id at once; the result arrives later as a message in this chat. Only groups you may delegate to (main: any; others: the group's `delegates` setting).",
    shape: {
      group: z.string().describe('The group to delegate to, e.g. "coder"'),
      prompt: z.string().describe('The complete task: the delegate sees nothing of this chat'),
      files: z
        .array(z.string())
        .optional()
        .describe('Paths inside /workspace/group to copy into the hand-off folder for it'),
      wait: z
        .boolean()
        .optional()
        .describe('true (default): wait for the result; false: get it later in the chat'),
      timeoutS: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('Give up after this many seconds (default: the configured delegation timeout)'),
    },
  },
  {
    name: 'consolidate_memory',
    description:
      'Replace your memory file with a consolidated version you wrote (the whole file). The previous version is kept in memory/history/; returns the unified diff. Use it for memory hygiene, not for single facts (use remember).',
    shape: {
      content: z.string().describe('The complete new memory file'),
    },
  },
];
