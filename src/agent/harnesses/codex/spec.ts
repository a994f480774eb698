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

/** The codex harness's options (a group's `harnessOptions.codex`). */
export const codexOptionsSchema = z.strictObject({
  /** `model_reasoning_effort`; absent: the model's default. */
  effort: z.optional(z.enum(['low', 'medium', 'high', 'xhigh', 'max'])),
  /** A custom OpenAI-compatible provider (Ollama, vLLM, OpenRouter…); absent: OpenAI at OPENAI_BASE_URL. */
  provider: z.optional(modelProviderSchema),
});
export type CodexOptions = z.infer<typeof codexOptionsSchema>;

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
