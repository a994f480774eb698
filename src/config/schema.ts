import { z } from 'zod';
import { builtinChannels } from '../channels/index.js';
import { secretRef } from './secret.js';
import { harnessNames } from '../agent/harnesses/index.js';

export { secretRef } from './secret.js';

/**
 * An egress allowlist entry: `host`, `host:port`, `host:*`, `*.domain`, `*`, `[v6]:port`.
 * (The proxy parses it precisely at start; this catches typos at load time.)
 */
const hostPattern = z
  .string()
  .regex(
    /^(\*|(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(:(\d{1,5}|\*))?$/,
    'a host pattern: host, host:port, host:*, *.domain or [v6]:port',
  );

/**
 * Claude OAuth refresh defaults: Anthropic's console token endpoint and Claude Code's public
 * OAuth client id (what a `claude` login issues tokens for), refreshing 10 minutes early.
 */
const DEFAULT_OAUTH = {
  tokenUrl: 'https://console.anthropic.com/v1/oauth/token',
  clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
  refreshMarginMs: 600_000,
};

/** The default sandbox id range: 70000-79999 (see docs/sandbox.md for why). */
export const SANDBOX_ID_DEFAULTS = { uidBase: 70_000, uidCount: 10_000 } as const;

/** The built-in harnesses' names, from their one registry (agent/harnesses/index.ts). */
export { harnessNames };
export const runtimeNames = ['auto', 'bubblewrap', 'podman', 'docker', 'apple', 'none'] as const;

/** What the guard decides on (mirrors guard/actions.ts, which config/ cannot import). */
export const guardActionKinds = [
  'egress',
  'tool',
  'command',
  'send_message',
  'schedule_task',
  'register_group',
  'delegate',
  'budget',
  'sender',
] as const;

const senderIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}:\S{1,320}$/, 'a sender id of the form <channel>:<id>');
const chatIdPattern = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}:\S{1,512}$/, 'a chat id of the form <channel>:<id>');

/** A cap in USD and/or tokens (input + output). */
const capSchema = z
  .strictObject({
    usd: z.number().positive().optional(),
    tokens: z.number().int().positive().optional(),
  })
  .refine((c) => c.usd !== undefined || c.tokens !== undefined, 'set usd and/or tokens');
const budgetCapsSchema = z.strictObject({
  daily: capSchema.optional(),
  monthly: capSchema.optional(),
});

/** The part of a channel factory the config needs: its key and its block's schema. */
interface ChannelBlockSpec {
  readonly name: string;
  readonly settings: z.ZodType;
}

/** `{ [factory name]: its settings schema }` for a list of factories. */
type ChannelBlocks<F extends readonly ChannelBlockSpec[]> = {
  [K in F[number] as K['name']]: K['settings'];
};

/**
 * `channels`: a strict object of the channels' own blocks (each optional: a channel without a
 * block is not configured), `{}` when absent.
 */
function channelsBlock<const F extends readonly ChannelBlockSpec[]>(factories: F) {
  const shape = Object.fromEntries(factories.map((f) => [f.name, f.settings]));
  return z.strictObject(shape as ChannelBlocks<F>).default({} as never);
}

/**
 * The config.yaml schema. Every default lives here or, for a channel's block, in that
 * channel's index.ts, and nowhere else. Unknown keys are errors.
 */
export const configFileSchema = z.strictObject({
  assistant: z.strictObject({ name: z.string().regex(/^[A-Za-z][\w-]{0,31}$/) }).default({
    name: 'Andy',
  }),
  /**
   * Who the owner is on each channel: stable sender ids (`tg:4242`, `slack:U01`, `mail:me@x`).
   * The API, web chat and CLI speak as `owner` already. Only the owner wakes `main` unless its
   * `senders` says otherwise; the prompt marks the owner's messages with role="owner".
   */
  owner: z
    .strictObject({
      ids: z
        .array(
          z
            .string()
            .regex(/^[a-z][a-z0-9]{0,15}:\S{1,320}$/, 'a sender id of the form <channel>:<id>'),
        )
        .default([]),
    })
    .default({ ids: [] }),
  timezone: z.string().optional(),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7420),
      /** A non-loopback host must be confirmed explicitly. */
      allowNonLoopback: z.boolean().default(false),
      /**
       * Names (besides the bound address and, on loopback, localhost/127.0.0.1/[::1]) the server
       * answers in the `Host` header: `name` (any port) or `name:port`. Others get 421.
       */
      allowedHosts: z
        .array(
          z
            .string()
            .regex(
              /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/,
              'a host name or address, optionally with :port (e.g. clawpod.example.com or 192.168.1.5:7420)',
            )
            .transform((h) => h.toLowerCase()),
        )
        .default([]),
    })
    .default({ host: '127.0.0.1', port: 7420, allowNonLoopback: false, allowedHosts: [] }),
  runtime: z.enum(runtimeNames).default('auto'),
  defaults: z
    .strictObject({
      harness: z.enum(harnessNames).default('claude'),
      model: z.string().nullable().default(null),
      /** An agent session waiting for follow-ups ends after this long without a turn. */
      idleTimeoutMs: z.number().int().positive().default(1_800_000),
      /** A session older than this ends at its next idle moment (a fresh one takes over). */
      sessionMaxAgeMs: z.number().int().positive().default(21_600_000),
    })
    .default({
      harness: 'claude',
      model: null,
      idleTimeoutMs: 1_800_000,
      sessionMaxAgeMs: 21_600_000,
    }),
  limits: z
    .strictObject({
      maxConcurrentRuns: z.number().int().min(1).max(100).default(5),
      memoryMb: z.number().int().min(64).default(1024),
      cpus: z.number().positive().default(1),
      pids: z.number().int().min(16).default(256),
      runTimeoutMs: z.number().int().positive().default(1_800_000),
    })
    .default({ maxConcurrentRuns: 5, memoryMb: 1024, cpus: 1, pids: 256, runTimeoutMs: 1_800_000 }),
  sandbox: z
    .strictObject({
      /**
       * Host ids of sandboxes when the daemon runs as root: `uidBase` is the gid every sandbox
       * shares, and group n runs as uid `uidBase + n` (n = the group's stable sandbox slot, 1…
       * `uidCount - 1`). The range must not hold a user, a group or a subordinate id range
       * (checked at start). A non-root daemon runs every sandbox as itself.
       */
      uidBase: z
        .number()
        .int('an integer (the first id of the sandbox id range, e.g. 70000)')
        .min(1000, 'at least 1000: system accounts live below')
        .max(2_000_000_000, 'at most 2000000000 (tools treat larger ids badly)')
        .default(SANDBOX_ID_DEFAULTS.uidBase),
      uidCount: z
        .number()
        .int('an integer (how many ids the range has, e.g. 10000)')
        .min(2, 'at least 2: the shared gid plus one group')
        .max(1_000_000, 'at most 1000000')
        .default(SANDBOX_ID_DEFAULTS.uidCount),
      /** Deprecated (one shared uid let one group starve all others): ignored, warned at start. */
      uid: z.number().int().min(1).optional(),
      /** Deprecated with `uid`. */
      gid: z.number().int().min(1).optional(),
      /** Container image for podman/docker/apple. */
      image: z.string().min(1).default('clawpod-agent:local'),
      /** Extra-mount allowlist; default ~/.config/clawpod/mount-allowlist.json (never mounted). */
      allowlistPath: z.string().nullable().default(null),
    })
    .default({ ...SANDBOX_ID_DEFAULTS, image: 'clawpod-agent:local', allowlistPath: null }),
  attachments: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(20 * 1024 * 1024),
    })
    .default({ maxBytes: 20 * 1024 * 1024 }),
  router: z
    .strictObject({ maxPromptMessages: z.number().int().min(1).max(1000).default(50) })
    .default({ maxPromptMessages: 50 }),
  retry: z
    .strictObject({
      baseDelayMs: z.number().int().positive().default(5000),
      maxAttempts: z.number().int().min(1).max(20).default(5),
    })
    .default({ baseDelayMs: 5000, maxAttempts: 5 }),
  shutdownTimeoutMs: z.number().int().positive().default(30_000),
  /** The `delegate` tool: one group's agent hands a sub-task to another's (docs/delegation.md). */
  delegation: z
    .strictObject({
      /** How deep delegates may delegate again: 2 lets a delegate delegate once more. */
      maxDepth: z.number().int().min(1).max(10).default(2),
      /** Most delegations one turn may start (waiting or not). */
      maxFanOut: z.number().int().min(1).max(50).default(4),
      /** How long a delegation may take (queued and running) when the call gives no timeoutS. */
      timeoutMs: z.number().int().min(1000).default(900_000),
      /** The longest timeoutS a call may ask for. */
      maxTimeoutMs: z.number().int().min(1000).default(3_600_000),
      /** Hand-off folder caps, per delegation: files copied each way, and their total size. */
      handoffMaxFiles: z.number().int().min(1).max(10_000).default(100),
      handoffMaxBytes: z
        .number()
        .int()
        .min(1024)
        .default(20 * 1024 * 1024),
    })
    .default({
      maxDepth: 2,
      maxFanOut: 4,
      timeoutMs: 900_000,
      maxTimeoutMs: 3_600_000,
      handoffMaxFiles: 100,
      handoffMaxBytes: 20 * 1024 * 1024,
    }),
  /** The SQLite store (docs/operations.md, "Storage"). */
  storage: z
    .strictObject({
      /**
       * `full`: a commit is fsynced before it returns, so an accepted message survives power
       * loss. `normal`: faster, may lose the last commits on power loss (not on a crash).
       */
      synchronous: z.enum(['full', 'normal']).default('full'),
      /** Concurrent intake writes share one commit (one fsync); off only to measure it. */
      groupCommit: z.boolean().default(true),
      /** How long one write waits for another process's lock (it blocks the daemon meanwhile). */
      busyTimeoutMs: z.number().int().min(0).max(1000).default(100),
      /** How long an intake write keeps retrying a locked database before answering 503. */
      lockWaitMs: z.number().int().min(0).default(5000),
    })
    .default({ synchronous: 'full', groupCommit: true, busyTimeoutMs: 100, lockWaitMs: 5000 }),
  egress: z
    .strictObject({
      /** Hosts every group may reach through the proxy (the model API hosts are implicit). */
      allow: z.array(hostPattern).default([]),
      /** Extra hosts per group folder. */
      groups: z.record(z.string(), z.array(hostPattern)).default({}),
      /**
       * Custom model upstreams (OpenAI-compatible servers, gateways), reachable from a sandbox
       * at `/upstream/<name>` on its egress bridge. `apiKeyEnv` names the daemon variable with
       * the key (omit for a keyless server); `header` defaults to authorization (Bearer).
       */
      upstreams: z
        .record(
          z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _'),
          z.strictObject({
            baseUrl: z.url({ protocol: /^https?$/ }),
            apiKeyEnv: z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
              .optional(),
            header: z.enum(['authorization', 'x-api-key']).optional(),
          }),
        )
        .default({}),
      /** Refresh of a Claude OAuth token (CLAUDE_CODE_OAUTH_REFRESH_TOKEN set). */
      oauth: z
        .strictObject({
          tokenUrl: z.url().default(DEFAULT_OAUTH.tokenUrl),
          clientId: z.string().min(1).default(DEFAULT_OAUTH.clientId),
          refreshMarginMs: z.number().int().min(0).default(DEFAULT_OAUTH.refreshMarginMs),
        })
        .default(DEFAULT_OAUTH),
    })
    .default({ allow: [], groups: {}, upstreams: {}, oauth: DEFAULT_OAUTH }),
  /** The guard: allow / ask / deny for privileged actions, and approvals (docs/approvals.md). */
  guard: z
    .strictObject({
      /** How long an approval waits for an answer; expiry is a deny. */
      expiryMs: z.number().int().min(1000).default(600_000),
      /** Per action kind, instead of `expiryMs` (e.g. `sender: 86400000`). */
      expiry: z.partialRecord(z.enum(guardActionKinds), z.number().int().min(1000)).default({}),
      /** A schedule firing more often than this in 24 hours asks the owner. */
      maxDailyFires: z.number().int().min(1).default(24),
      /** When the owner has not answered after this long, the group's approvers are asked too. */
      fallbackAfterMs: z.number().int().min(0).default(300_000),
      /** Per group: who else may answer its approvals (sender id) and where to ask them (chat). */
      approvers: z
        .record(
          z.string(),
          z.array(z.strictObject({ sender: senderIdSchema, chat: chatIdPattern })).max(20),
        )
        .default({}),
      /** Per group (`*`: every group): rules over the defaults, e.g. `{kind: tool, pattern: "Bash(npm test:*)", effect: allow}`. */
      rules: z
        .record(
          z.string(),
          z
            .array(
              z.strictObject({
                kind: z.enum(guardActionKinds),
                pattern: z.string().min(1).max(1000),
                effect: z.enum(['allow', 'ask', 'deny']),
              }),
            )
            .max(1000),
        )
        .default({}),
    })
    .default({
      expiryMs: 600_000,
      expiry: {},
      maxDailyFires: 24,
      fallbackAfterMs: 300_000,
      approvers: {},
      rules: {},
    }),
  /** Spending caps per group and per task (docs/budgets.md). */
  budgets: z
    .strictObject({
      /** A notice to the owner when a cap is this far used. */
      warnAt: z.number().min(0.1).max(1).default(0.8),
      groups: z.record(z.string(), budgetCapsSchema).default({}),
      tasks: z.record(z.string(), budgetCapsSchema).default({}),
    })
    .default({ warnAt: 0.8, groups: {}, tasks: {} }),
  /**
   * One block per channel, each with its own schema and defaults (the channel's index.ts), from
   * the explicit channel list; an unknown channel name is an error like any unknown key.
   */
  channels: channelsBlock(builtinChannels),
  /**
   * Inbound webhooks: `POST /hooks/<name>` on the HTTP server (see docs/webhooks.md). Each call
   * is authenticated (hmac or bearer, with timestamp and nonce) and either stored as a message
   * in `chat` (mentioned, so the group runs) or, with `run`, triggers that task now.
   */
  webhooks: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, - and _'),
      z.strictObject({
        secret: secretRef,
        auth: z.enum(['hmac', 'bearer']).default('hmac'),
        /** The group `chat` is bound to at start when it is unbound (default: `hooks`, made for it). */
        group: z.string().min(1).optional(),
        /** The chat the payload is stored in and the reply goes to, e.g. `web:alerts`. */
        chat: z
          .string()
          .regex(/^[a-z][a-z0-9]{0,15}:\S{1,512}$/, 'a chat id of the form <channel>:<id>'),
        /** Message template; `{{payload}}` and `{{hook}}` are filled in. */
        prompt: z.string().min(1).max(10_000).optional(),
        /** A task id: trigger that task now instead of storing a message. */
        run: z.string().min(1).optional(),
        maxBytes: z
          .number()
          .int()
          .min(64)
          .max(16 * 1024 * 1024)
          .default(256 * 1024),
      }),
    )
    .optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
