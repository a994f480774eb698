import * as z from 'zod/mini';
import type { HarnessSpec } from '../../../protocol/harness-spec.js';

/**
 * A model provider for the codex harness. `baseUrl` includes the `/v1` (Codex appends
 * `/responses`); a value starting with `/` is a path on the run's egress bridge, e.g.
 * `/upstream/ollama` for the proxy's upstream named `ollama`. `envKey` names the sandbox variable
 * holding the key to send as a Bearer token (the run's placeholder when unset there); null for a
 * keyless server. Codex speaks only the Responses API (0.171 refuses `wire_api = "chat"`).
 */
export const modelProviderSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  baseUrl: z.string().check(z.minLength(1)),
  envKey: z.nullable(
    z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')),
  ),
  wireApi: z.literal('responses'),
});
export type ModelProvider = z.infer<typeof modelProviderSchema>;

/** A command prefix: words of letters, digits and `._/:=@+-`, one space between them. */
const COMMAND_PREFIX = /^[\w./:=@+-]+( [\w./:=@+-]+){0,7}$/;
const COMMAND_PREFIX_HINT =
  'a command prefix: up to 8 words of letters, digits and ._/:=@+- separated by single spaces, e.g. "git push"';

/** The codex harness's options (a group's `harnessOptions.codex`). */
export const codexOptionsSchema = z.strictObject({
  /** `model_reasoning_effort`; absent: the model's default. */
  effort: z.optional(z.enum(['low', 'medium', 'high', 'xhigh', 'max'])),
  /** A custom OpenAI-compatible provider (Ollama, vLLM, OpenRouter…); absent: OpenAI at OPENAI_BASE_URL. */
  provider: z.optional(modelProviderSchema),
  /**
   * How Codex is driven: `app-server` (default) keeps one `codex app-server` per agent session
   * and its thread across turns; `exec` runs one `codex exec --json [resume]` per turn (the
   * fallback: no live process between turns, no approvals routed).
   */
  mode: z.optional(z.enum(['app-server', 'exec'])),
  /**
   * Command prefixes (`git push`, `rm -rf`) Codex must ask about before running them (app-server
   * mode): each asks clawpod's guard as the tool `Bash` with the command, so the group's guard
   * rules decide and the owner is asked when they say ask. Absent: `["git push"]`, the prefix
   * the guard's default rules ask about; `[]`: Codex asks nothing (approval policy "never").
   */
  askBefore: z.optional(z.array(z.string().check(z.regex(COMMAND_PREFIX, COMMAND_PREFIX_HINT)))),
});
export type CodexOptions = z.infer<typeof codexOptionsSchema>;

/** `askBefore` when a group sets none: what the guard's default rules ask about. */
export const DEFAULT_ASK_BEFORE: readonly string[] = ['git push'];

/** `@openai/codex` ships its native binary in a per-platform optional package. */
export const codexPlatformPackage = (platform: string, arch: string): string =>
  `@openai/codex-${platform}-${arch}`;

/**
 * The OpenAI Codex CLI. Inside the sandbox it needs the package holding the native binary for
 * the platform (and `@openai/codex`, whose node launcher is the fallback).
 */
export const codexSpec: HarnessSpec<CodexOptions> = {
  name: 'codex',
  optionsSchema: codexOptionsSchema,
  // The proxy injects OPENAI_API_KEY; only a keyless custom provider (envKey null) needs none.
  credentialProblem: (env, options) =>
    options.provider?.envKey === null || env.OPENAI_API_KEY?.trim()
      ? undefined
      : 'The Codex agent has no credential. Set OPENAI_API_KEY (an OpenAI API key) in ' +
        "$CLAWPOD_HOME/.env or the daemon's environment, then restart clawpod.",
  packages: (platform, arch) => ['@openai/codex', codexPlatformPackage(platform, arch)],
};
