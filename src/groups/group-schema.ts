import { z } from 'zod';
import { harnessNames, runtimeNames } from '../config/schema.js';

/** A group's folder name: its identity on disk, in IPC and in the API. */
export const folderNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'lowercase letters, digits, - and _ (1-64, not starting with - or _)',
  )
  .refine((n) => n !== 'global', '"global" is reserved for shared knowledge');

/** A chat id: `<channel>:<id>`. */
export const chatIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}:\S{1,512}$/, 'a chat id of the form <channel>:<id>, e.g. web:main');

export const groupLimitsSchema = z
  .strictObject({
    memoryMb: z.number().int().min(64),
    cpus: z.number().positive(),
    pids: z.number().int().min(16),
    runTimeoutMs: z.number().int().positive(),
  })
  .partial();

/**
 * Who may wake a group: `all`, or a list of sender ids (as the channel reports them, e.g.
 * `tg:12345`, `mail:alice@example.com`). Messages from others are dropped, or stored for the
 * record without ever running the agent or entering a prompt (`store`, the default).
 */
export const sendersSchema = z.strictObject({
  allow: z.union([z.literal('all'), z.array(z.string().min(1).max(320)).max(1000)]),
  others: z.enum(['drop', 'store']).default('store'),
});
export type SenderPolicy = z.infer<typeof sendersSchema>;

/** The settings a user may change on a group (API PATCH body, CLI `groups set`). */
export const groupSettingsSchema = z
  .strictObject({
    trigger: z.string().trim().min(1).max(64).nullable(),
    requiresTrigger: z.boolean(),
    harness: z.enum(harnessNames).nullable(),
    command: z.string().min(1).max(4096).nullable(),
    runtime: z.enum(runtimeNames).nullable(),
    model: z.string().min(1).max(200).nullable(),
    limits: groupLimitsSchema,
    senders: sendersSchema.nullable(),
  })
  .partial();

/** Body of `POST /api/groups` and `clawpod groups add`. */
export const newGroupSchema = groupSettingsSchema.extend({
  name: folderNameSchema,
  chats: z.array(chatIdSchema).default([]),
});

export type GroupSettings = z.infer<typeof groupSettingsSchema>;
export type GroupLimits = z.infer<typeof groupLimitsSchema>;
export type NewGroup = z.infer<typeof newGroupSchema>;

/** A group as stored. `null` settings fall back to the config defaults. */
export interface Group {
  folder: string;
  isMain: boolean;
  trigger: string | null;
  requiresTrigger: boolean;
  harness: (typeof harnessNames)[number] | null;
  command: string | null;
  runtime: (typeof runtimeNames)[number] | null;
  model: string | null;
  limits: GroupLimits;
  /** null: everyone in the group's chats may wake it. */
  senders: SenderPolicy | null;
  cursorSeq: number;
  createdAt: number;
  chats: string[];
}
