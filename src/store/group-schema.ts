/**
 * What a group is, as stored (Group) and as a user may change it (the zod schemas, and the
 * types inferred from them). In store/ because the groups table holds exactly this; the layers
 * above (groups/, http/, cli/, tasks/, runs/) import it from here.
 */
import { z } from 'zod';
import { harnessNames, runtimeNames } from '../config/schema.js';
import { chatIdSchema } from './chat-id.js';

/** Variables clawpod sets itself; a group's `env` may not override them. */
const RESERVED_ENV =
  /^(PATH|HOME|TZ|LANG|CLAWPOD_.*|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|ANTHROPIC_.*|OPENAI_.*|CLAUDE_.*|CODEX_.*)$/;

/** A group's folder name: its identity on disk, in IPC and in the API. */
export const folderNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/,
    'lowercase letters, digits, - and _ (1-64, not starting with - or _)',
  )
  .refine((n) => n !== 'global', '"global" is reserved for shared knowledge');

export { chatIdSchema };

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
 * record without ever running the agent or entering a prompt (`store`, the default), or
 * stored and the owner asked whether the sender may talk to the group (`ask`: a pairing
 * approval; see docs/approvals.md).
 */
export const sendersSchema = z.strictObject({
  allow: z.union([z.literal('all'), z.array(z.string().min(1).max(320)).max(1000)]),
  others: z.enum(['drop', 'store', 'ask']).default('store'),
});
export type SenderPolicy = z.infer<typeof sendersSchema>;

/** Most extra mounts one group may have. */
export const MAX_GROUP_MOUNTS = 20;

/**
 * A host folder a group sees at /workspace/extra/<name> (docs/sandbox.md#mount-policy),
 * read-only unless `readOnly: false` and the mount allowlist allows read-write. Checked against
 * the allowlist when set (GroupService) and again at every run (the mount policy).
 */
export const groupMountSchema = z.strictObject({
  /** An absolute path or ~/…; stored resolved through symlinks, as it was when granted. */
  hostPath: z.string().min(1).max(4096),
  /** Relative name under /workspace/extra: letters, digits, _ . - and / (the policy checks it). */
  name: z.string().min(1).max(200),
  readOnly: z.boolean().default(true),
});
export type GroupMount = z.output<typeof groupMountSchema>;

/** A patch of a group's harness options: per harness name, a merge patch or null. */
export const harnessOptionsPatchSchema = z.record(
  z.string(),
  z.record(z.string(), z.unknown()).nullable(),
);

/**
 * A group's options per harness, as stored: `{ claude: { effort: 'high' }, codex: { provider } }`.
 * Each block has passed its harness's optionsSchema; a harness without options has no block.
 */
export type HarnessOptions = Record<string, Record<string, unknown>>;

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
    /** Keep a sandbox started ahead of the first message, so it skips the spawn. */
    warm: z.boolean(),
    /**
     * Replies quote the message they answer (Telegram, Discord, WhatsApp) or go into its thread
     * (Slack). Email always threads. Default false: plain messages in the chat.
     */
    threadReplies: z.boolean(),
    /** Extra, non-secret environment for the agent (secrets belong to the credential proxy). */
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'an environment variable name'),
        z.string().max(4096),
      )
      .refine((e) => Object.keys(e).every((k) => !RESERVED_ENV.test(k)), {
        message:
          'PATH, HOME, TZ, LANG, CLAWPOD_*, proxy, API key and base-URL variables are set by clawpod',
      })
      .refine((e) => Object.keys(e).length <= 50, 'at most 50 variables'),
    /**
     * Options per harness, each a merge patch checked by that harness's optionsSchema (see
     * harness-options.ts): `{ claude: { effort: 'high' } }` sets one option, an option set to
     * null is removed, a harness set to null loses all its options.
     */
    harnessOptions: harnessOptionsPatchSchema,
    /**
     * Groups this group's agent may hand work to with the `delegate` tool (docs/delegation.md).
     * `main` may delegate to any group whatever this says; null or [] for others: to none.
     */
    delegates: z.array(folderNameSchema).max(100).nullable(),
    /** Host folders the group sees at /workspace/extra/<name>; the list replaces the old one. */
    mounts: z.array(groupMountSchema).max(MAX_GROUP_MOUNTS).nullable(),
    /** Old top-level options, kept as aliases (see LEGACY_OPTION_KEYS): checked by the harnesses. */
    effort: z.unknown(),
    agentTeams: z.unknown(),
    provider: z.unknown(),
  })
  .partial();

/** Body of `POST /api/groups` and `clawpod groups add`. */
export const newGroupSchema = groupSettingsSchema.extend({
  name: folderNameSchema,
  chats: z.array(chatIdSchema).default([]),
});

export type GroupSettings = z.infer<typeof groupSettingsSchema>;
/** Settings as the store writes them: options merged and checked, aliases resolved. */
export type StoredGroupSettings = Omit<
  GroupSettings,
  'harnessOptions' | 'effort' | 'agentTeams' | 'provider'
> & { harnessOptions?: HarnessOptions };
export type GroupLimits = z.infer<typeof groupLimitsSchema>;
export type NewGroup = z.infer<typeof newGroupSchema>;

/** A group as stored. `null` settings fall back to the config defaults. */
export interface Group {
  folder: string;
  isMain: boolean;
  trigger: string | null;
  requiresTrigger: boolean;
  harness: string | null;
  command: string | null;
  runtime: (typeof runtimeNames)[number] | null;
  model: string | null;
  limits: GroupLimits;
  /** null: everyone in the group's chats may wake it. */
  senders: SenderPolicy | null;
  warm: boolean;
  threadReplies: boolean;
  env: Record<string, string>;
  /** Options per harness (see HarnessOptions); the one in effect goes to the start request. */
  harnessOptions: HarnessOptions;
  /** Groups it may delegate to (main: any, whatever this says). */
  delegates: string[];
  /** Host folders it sees at /workspace/extra/<name> (hostPath resolved when granted). */
  mounts: GroupMount[];
  createdAt: number;
  /** Stable per group while it exists: a root daemon runs it as uid `sandbox.uidBase` + slot. */
  sandboxSlot: number;
  chats: string[];
}
