// zod/mini: the runner loads this on every start (a cold run's path), and mini's tree-shakable
// functions keep that to a few milliseconds where full zod takes tens.
import * as z from 'zod/mini';

/**
 * Which Anthropic credential the host injects, so the sandbox gets a placeholder of the same kind:
 * `api-key` → ANTHROPIC_API_KEY, `oauth` → CLAUDE_CODE_OAUTH_TOKEN, `bearer` → ANTHROPIC_AUTH_TOKEN.
 */
export const anthropicAuthKindSchema = z.enum(['api-key', 'oauth', 'bearer']);
export type AnthropicAuthKind = z.infer<typeof anthropicAuthKindSchema>;

/**
 * The run's way out: the host's egress proxy, reached through a unix socket mounted into the
 * sandbox. `placeholder` is what the harness presents instead of a key; the proxy swaps it for
 * the real credential. It is not a secret (it is worthless outside this run's socket).
 */
export const proxyInfoSchema = z.strictObject({
  /** Path of the proxy's unix socket as seen by the runner. */
  socket: z.string().check(z.minLength(1)),
  placeholder: z.string().check(z.minLength(16)),
  anthropicAuth: anthropicAuthKindSchema,
});
export type ProxyInfo = z.infer<typeof proxyInfoSchema>;

/**
 * Path prefixes of the model routes on the egress proxy (and so on the in-sandbox bridge): a
 * harness points its base URL at `http://127.0.0.1:<bridge><prefix>`; custom upstreams live
 * under `<upstream>/<name>`.
 */
export const EGRESS_ROUTES = {
  anthropic: '/anthropic',
  openai: '/openai/v1',
  upstream: '/upstream',
} as const;

/**
 * The host ↔ in-sandbox runner protocol, all on the runner's stdio. The host writes JSON lines
 * on stdin: one `start`, then an `input` per turn (the next only after the previous turn's
 * `result` or `error`), and `close` to end after the current turn; closing stdin ends the runner
 * at once. The runner writes {@link RunnerEvent} lines on stdout. Each agent process has its own
 * stdin, so no two runs ever share an input channel, and the host never writes into a
 * sandbox-writable directory to reach the agent.
 */
export const startRequestSchema = z.strictObject({
  type: z.literal('start'),
  /** The agent session this process serves (for logs). */
  sessionId: z.string().check(z.minLength(1)),
  /**
   * A capability for IPC requests: the MCP server puts it in every request so the host knows
   * which session (and so which conversation) asked. Worthless outside this group's IPC dir.
   */
  sessionToken: z.string().check(z.minLength(16)),
  group: z.string().check(z.minLength(1)),
  isMain: z.boolean(),
  harness: z.string().check(z.minLength(1)),
  /** For the `command` harness: a shell command; prompt on stdin, reply on stdout. */
  command: z.nullable(z.string()),
  model: z.nullable(z.string()),
  /**
   * The group's options for this harness (`harnessOptions.<harness>`, checked by the host with
   * the harness's own optionsSchema); the harness parses them again with the same schema.
   */
  harnessOptions: z.optional(z.record(z.string(), z.unknown())),
  /** The harness's own conversation to resume (Claude session id, Codex thread id); null: fresh. */
  resumeId: z.nullable(z.string()),
  timezone: z.string(),
  assistantName: z.string(),
  /** Absent or null: the sandbox has no way out (no model access, no egress). */
  proxy: z.optional(z.nullable(proxyInfoSchema)),
  /**
   * Tool-name patterns (`*` any run) that some rule of the group may ask about or deny: a
   * harness that decides read-only tools locally sends calls of these to the host all the same
   * (`approve_tool`). Tools that act always go to the host. Absent: none beyond those.
   */
  guardedTools: z.optional(z.array(z.string().check(z.maxLength(200)))),
  /**
   * Host folders mounted for the group (its `mounts` setting, as the mount policy let them
   * through): where the agent finds each, and whether it may write there. Absent: none.
   */
  mounts: z.optional(
    z.array(z.strictObject({ name: z.string(), path: z.string(), readOnly: z.boolean() })),
  ),
});
export type StartRequest = z.infer<typeof startRequestSchema>;

/** One turn's input: a message envelope or a task prompt. */
export const turnInputSchema = z.strictObject({
  type: z.literal('input'),
  id: z.int().check(z.nonnegative()),
  prompt: z.string(),
});
export type TurnInput = z.infer<typeof turnInputSchema>;

/** Every line the host writes on the runner's stdin after `start`. */
export const hostLineSchema = z.discriminatedUnion('type', [
  turnInputSchema,
  /** Finish after the current turn (or now, when idle). */
  z.strictObject({ type: z.literal('close') }),
]);
export type HostLine = z.infer<typeof hostLineSchema>;

export const usageSchema = z.strictObject({
  inputTokens: z.optional(z.number().check(z.nonnegative())),
  outputTokens: z.optional(z.number().check(z.nonnegative())),
  cacheReadTokens: z.optional(z.number().check(z.nonnegative())),
  cacheWriteTokens: z.optional(z.number().check(z.nonnegative())),
  costUsd: z.optional(z.number().check(z.nonnegative())),
});
export type Usage = z.infer<typeof usageSchema>;

/**
 * The one event vocabulary from the agent to the outbox: a harness yields these for a turn, the
 * in-sandbox runner writes them as JSON lines, the host reads them. After `ready`, a turn is
 * zero or more `message`/`partial`/`tool`/`log` events, then exactly one `result` (answered) or `error` (failed).
 */
export const runnerEventSchema = z.discriminatedUnion('type', [
  /** The runner read its start request and loaded its harness: it takes inputs (once, first). */
  z.strictObject({ type: z.literal('ready') }),
  /** One logical reply for the chat of the input being answered. */
  z.strictObject({ type: z.literal('message'), text: z.string() }),
  /**
   * A piece of the reply being written (a text delta, appended to the ones before it). Only for
   * showing progress: the `message` that follows is what counts, and a host may ignore these.
   */
  z.strictObject({ type: z.literal('partial'), text: z.string() }),
  /** A tool step started: the tool's name and a short, human summary of what it does. */
  z.strictObject({
    type: z.literal('tool'),
    name: z.string().check(z.maxLength(200)),
    summary: z.string().check(z.maxLength(500)),
  }),
  /** The turn is answered; everything it said so far is final. */
  z.strictObject({
    type: z.literal('result'),
    /** The harness's conversation id after this turn (to resume in a later session). */
    resumeId: z.optional(z.nullable(z.string())),
    usage: z.optional(usageSchema),
  }),
  /** The turn failed; `retryable: false` means a retry cannot help (e.g. missing credential). */
  z.strictObject({
    type: z.literal('error'),
    message: z.string(),
    retryable: z.optional(z.boolean()),
  }),
  /** A note for the host's log (not the chat); does not end the turn. */
  z.strictObject({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string(),
  }),
]);
export type RunnerEvent = z.infer<typeof runnerEventSchema>;

/** Encodes one event as a stdout line. */
export const encodeEvent = (ev: RunnerEvent): string => JSON.stringify(ev) + '\n';
