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
 * The host ↔ in-sandbox runner protocol. The host writes one `start` line on the runner's
 * stdin; the runner writes JSONL events on stdout. Follow-ups travel as files in
 * `/workspace/ipc/input/` (see ipc.ts) and are acknowledged on stdout.
 */
export const startRequestSchema = z.strictObject({
  type: z.literal('start'),
  runId: z.string().min(1),
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
  prompt: z.string(),
  sessionId: z.string().nullable(),
  /** The runner exits after this long without input. */
  idleTimeoutMs: z.number().int().positive(),
  timezone: z.string(),
  assistantName: z.string(),
  /** Absent or null: the sandbox has no way out (no model access, no egress). */
  proxy: proxyInfoSchema.nullable().optional(),
});
export type StartRequest = z.infer<typeof startRequestSchema>;

export const usageSchema = z.strictObject({
  inputTokens: z.number().nonnegative().optional(),
  outputTokens: z.number().nonnegative().optional(),
  cacheReadTokens: z.number().nonnegative().optional(),
  cacheWriteTokens: z.number().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
});

export const runnerEventSchema = z.discriminatedUnion('type', [
  /** Lifecycle: ready (started), busy (working on an input), idle (waiting), closing. */
  z.strictObject({ type: z.literal('state'), state: z.enum(['ready', 'busy', 'idle', 'closing']) }),
  /** A follow-up input file was read and accepted; the host may count it delivered. */
  z.strictObject({ type: z.literal('ack'), inputId: z.number().int().positive() }),
  /** One logical reply for the chat. */
  z.strictObject({ type: z.literal('message'), text: z.string() }),
  /** Inputs up to `inputId` are answered. */
  z.strictObject({
    type: z.literal('result'),
    inputId: z.number().int().nonnegative(),
    sessionId: z.string().nullable().optional(),
    usage: usageSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('error'),
    message: z.string(),
    retryable: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string(),
  }),
]);
export type RunnerWireEvent = z.infer<typeof runnerEventSchema>;

/** Encodes one event as a stdout line. */
export const encodeEvent = (ev: RunnerWireEvent): string => JSON.stringify(ev) + '\n';
