import * as z from 'zod/mini';
import type { HarnessSpec } from '../../../protocol/harness-spec.js';

/** The variables that can carry an Anthropic credential, in the order Claude Code prefers them. */
export const CREDENTIAL_VARS = [
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'ANTHROPIC_AUTH_TOKEN',
] as const;

/** The claude harness's options (a group's `harnessOptions.claude`). */
export const claudeOptionsSchema = z.strictObject({
  /** Reasoning effort; absent: the model's default (or the group's .claude/settings.json). */
  effort: z.optional(z.enum(['low', 'medium', 'high', 'xhigh', 'max'])),
  /** Turn on agent teams (experimental); subagents are always available. */
  agentTeams: z.optional(z.boolean()),
});
export type ClaudeOptions = z.infer<typeof claudeOptionsSchema>;

/**
 * Claude Code through the Claude Agent SDK. Inside the sandbox it needs the SDK and the package
 * holding Claude Code's native binary for the platform, which the SDK resolves from its own
 * location (`@anthropic-ai/claude-agent-sdk-<platform>-<arch>[-musl]`).
 */
export const claudeSpec: HarnessSpec<ClaudeOptions> = {
  name: 'claude',
  optionsSchema: claudeOptionsSchema,
  credentialProblem: (env) =>
    CREDENTIAL_VARS.some((v) => env[v]?.trim())
      ? undefined
      : 'The Claude agent has no credential. Set ANTHROPIC_API_KEY (an Anthropic API key) or ' +
        'CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) in $CLAWPOD_HOME/.env or the ' +
        "daemon's environment, then restart clawpod.",
  packages: (platform, arch) => [
    '@anthropic-ai/claude-agent-sdk',
    `@anthropic-ai/claude-agent-sdk-${platform}-${arch}`,
    ...(platform === 'linux' ? [`@anthropic-ai/claude-agent-sdk-${platform}-${arch}-musl`] : []),
  ],
};
