import { z } from 'zod';

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
  socket: z.string().min(1),
  placeholder: z.string().min(16),
  anthropicAuth: anthropicAuthKindSchema,
});
export type ProxyInfo = z.infer<typeof proxyInfoSchema>;

/**
 * A model provider for the codex harness. `baseUrl` includes the `/v1` (Codex appends
 * `/responses`); a value starting with `/` is a path on the run's egress bridge, e.g.
 * `/upstream/ollama` for the proxy's upstream named `ollama`. `envKey` names the sandbox variable
 * holding the key to send as a Bearer token (the run's placeholder when unset there); null for a
 * keyless server. Codex speaks only the Responses API (0.171 refuses `wire_api = "chat"`).
 */
export const modelProviderSchema = z.strictObject({
  name: z.string().min(1).max(100),
  baseUrl: z.string().min(1),
  envKey: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .nullable(),
  wireApi: z.literal('responses'),
});
export type ModelProvider = z.infer<typeof modelProviderSchema>;

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
  sessionId: z.string().min(1),
  /**
   * A capability for IPC requests: the MCP server puts it in every request so the host knows
   * which session (and so which conversation) asked. Worthless outside this group's IPC dir.
   */
  sessionToken: z.string().min(16),
  group: z.string().min(1),
  isMain: z.boolean(),
  harness: z.string().min(1),
  /** For the `command` harness: a shell command; prompt on stdin, reply on stdout. */
  command: z.string().nullable(),
  model: z.string().nullable(),
  /** codex: a custom OpenAI-compatible provider (Ollama, vLLM, OpenRouter…); absent or null = OpenAI at OPENAI_BASE_URL. */
  provider: modelProviderSchema.nullable().optional(),
  /** claude: reasoning effort; absent or null = the model's default (or the group's .claude/settings.json). */
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
  /** claude: turn on agent teams (experimental); subagents are always available. */
  agentTeams: z.boolean().optional(),
  /** The harness's own conversation to resume (Claude session id, Codex thread id); null: fresh. */
  resumeId: z.string().nullable(),
  timezone: z.string(),
  assistantName: z.string(),
  /** Absent or null: the sandbox has no way out (no model access, no egress). */
  proxy: proxyInfoSchema.nullable().optional(),
});
export type StartRequest = z.infer<typeof startRequestSchema>;

/** One turn's input: a message envelope or a task prompt. */
export const turnInputSchema = z.strictObject({
  type: z.literal('input'),
  id: z.number().int().nonnegative(),
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
  inputTokens: z.number().nonnegative().optional(),
  outputTokens: z.number().nonnegative().optional(),
  cacheReadTokens: z.number().nonnegative().optional(),
  cacheWriteTokens: z.number().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
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
    name: z.string().max(200),
    summary: z.string().max(500),
  }),
  /** The turn is answered; everything it said so far is final. */
  z.strictObject({
    type: z.literal('result'),
    /** The harness's conversation id after this turn (to resume in a later session). */
    resumeId: z.string().nullable().optional(),
    usage: usageSchema.optional(),
  }),
  /** The turn failed; `retryable: false` means a retry cannot help (e.g. missing credential). */
  z.strictObject({
    type: z.literal('error'),
    message: z.string(),
    retryable: z.boolean().optional(),
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
