import { z } from 'zod';

/** A secret reference: `env:NAME` reads the variable at load time; plain strings are refused. */
export const secretRef = z
  .string()
  .regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'a secret reference of the form env:NAME');

const nullableUrl = z.url().nullable().default(null);

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

export const harnessNames = ['claude', 'codex', 'command'] as const;
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

/** The config.yaml schema. Every default lives here and nowhere else. Unknown keys are errors. */
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
  channels: z
    .strictObject({
      web: z.strictObject({ enabled: z.boolean().default(true) }).optional(),
      telegram: z
        .strictObject({
          token: secretRef,
          /** A local Bot API server (or a test fake) instead of https://api.telegram.org. */
          apiRoot: nullableUrl,
          /** `polling` (when absent): long polling, no inbound port. `webhook`: see `webhook`. */
          mode: z.enum(['polling', 'webhook']).optional(),
          /** Webhook mode: a server of its own (not the daemon's HTTP port) behind your HTTPS proxy. */
          webhook: z
            .strictObject({
              /** The public HTTPS URL Telegram posts updates to (forwarded to host:port/path). */
              url: z.url(),
              host: z.string().default('127.0.0.1'),
              port: z.number().int().min(0).max(65535).default(8443),
              path: z.string().regex(/^\//, 'a path starting with /').default('/telegram'),
              /** Checked against X-Telegram-Bot-Api-Secret-Token; random per start when absent. */
              secretToken: secretRef.optional(),
            })
            .optional(),
          /** Least ms between two sends to one chat; absent: 1000 (Telegram: ~1 message/s per chat). */
          perChatIntervalMs: z.number().int().min(0).optional(),
          /** Most sends per minute over all chats; absent: 1500 (Telegram allows ~30/s; 0 = no cap). */
          globalPerMinute: z.number().int().min(0).optional(),
        })
        .refine((t) => t.mode !== 'webhook' || t.webhook !== undefined, {
          message: 'mode webhook needs a webhook block with at least url',
          path: ['webhook'],
        })
        .optional(),
      slack: z
        .strictObject({
          botToken: secretRef,
          appToken: secretRef.optional(),
          signingSecret: secretRef.optional(),
          apiUrl: nullableUrl,
          /** socket: Socket Mode (app token); http: Events API POSTs, signing secret checked. */
          mode: z.enum(['socket', 'http']).default('socket'),
          /** http mode: the loopback port of `POST /slack/events` (put a TLS proxy in front). */
          port: z.number().int().min(0).max(65535).default(3000),
          /** Least time between two posts to one Slack channel (threads included). */
          perChatIntervalMs: z.number().int().min(0).default(1000),
          /** Most posts per minute across all channels (0: no cap). */
          globalPerMinute: z.number().int().min(0).default(100),
          /** First reconnect delay; doubles per failed attempt up to 60 s. */
          reconnectDelayMs: z.number().int().min(10).default(1000),
        })
        .optional(),
      /** Email (docs/channels/email.md): one mailbox is the channel, each sender address a chat. */
      email: z
        .strictObject({
          /** Inbound: IMAP with IDLE. `password` or the `oauth2` block authenticates. */
          imap: z.strictObject({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(993),
            /** TLS from the first byte (993); false for plain/STARTTLS ports (143, tests). */
            secure: z.boolean().default(true),
            user: z.string().min(1),
            password: secretRef.optional(),
          }),
          /** Outbound: SMTP. `password` or the `oauth2` block authenticates; neither: no auth. */
          smtp: z.strictObject({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(465),
            secure: z.boolean().default(true),
            user: z.string().min(1).optional(),
            password: secretRef.optional(),
          }),
          /** The bot's address, `bot@example.com` or `Name <bot@example.com>`; mail from it is skipped. */
          from: z.string().min(3),
          /** The mailbox watched for new mail. */
          mailbox: z.string().min(1).default('INBOX'),
          /** XOAUTH2 (e.g. Gmail) instead of passwords, for both IMAP and SMTP. */
          oauth2: z
            .strictObject({
              user: z.string().min(1),
              clientId: z.string().min(1),
              clientSecret: secretRef,
              refreshToken: secretRef,
              tokenUrl: z.url().default('https://oauth2.googleapis.com/token'),
            })
            .optional(),
          /** First delay before reconnecting IMAP after a drop; doubles up to 5 min. */
          reconnectDelayMs: z.number().int().min(10).default(1000),
          /** TLS for IMAP and SMTP: `ca` trusts a private CA (a PEM file) besides the system's. */
          tls: z
            .strictObject({
              ca: z
                .string({ error: 'a path to a PEM file with the CA certificate(s)' })
                .min(1, 'a path to a PEM file with the CA certificate(s)')
                .refine((p) => !/-----BEGIN/.test(p), {
                  message: 'a path to a PEM file, not the certificate text itself',
                }),
            })
            .optional(),
        })
        .optional(),
      /** WhatsApp (docs/channels/whatsapp.md): no secret; the paired auth state is the credential. */
      whatsapp: z
        .strictObject({
          enabled: z.boolean(),
          /** Pair by code for this number (digits, country code first) instead of the QR. */
          phoneNumber: z
            .string()
            .regex(/^\d{7,15}$/, 'digits only, country code first')
            .optional(),
          /** The bot uses the owner's own number: texts prefixed `<assistant>: `, told apart by it. */
          selfChat: z.boolean().optional(),
          /** Least ms between two sends to one chat; absent: 2000 (spacing avoids bans). */
          perChatIntervalMs: z.number().int().min(0).optional(),
          /** Most sends per minute over all chats; absent: 20 (0 = no cap; keep it low). */
          globalPerMinute: z.number().int().min(0).optional(),
        })
        .optional(),
      discord: z
        .strictObject({
          token: secretRef,
          /** REST root without the version (the library appends `/v10`); null: Discord's own. */
          apiBase: nullableUrl,
          /** Least time between two messages to one Discord channel (Discord allows ~5 per 5 s). */
          perChatIntervalMs: z.number().int().min(0).default(1000),
          /** Most messages per minute across all channels (0: no cap; Discord's global is 50/s). */
          globalPerMinute: z.number().int().min(0).default(1800),
          /** First delay before logging in again with a fresh client; doubles up to 5 min. */
          reconnectDelayMs: z.number().int().min(10).default(1000),
        })
        .optional(),
    })
    .default({}),
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
