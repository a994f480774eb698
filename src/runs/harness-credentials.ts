import type { LaunchProblem } from './agent-process.js';

/** Host variables that can carry a Claude credential (the egress proxy injects whichever is set). */
export const CLAUDE_CREDENTIAL_VARS = [
  'ANTHROPIC_API_KEY',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'ANTHROPIC_AUTH_TOKEN',
] as const;

/**
 * Why the `claude` harness cannot run with the daemon's environment (config.env: the process
 * env over `$CLAWPOD_HOME/.env`), or undefined when a credential is set. The message is shown
 * in the chat as is, so it names exactly what to set. Values are never read beyond presence.
 */
export function claudeCredentialProblem(
  env: Readonly<Record<string, string | undefined>>,
): LaunchProblem | undefined {
  if (CLAUDE_CREDENTIAL_VARS.some((v) => env[v]?.trim())) return undefined;
  return {
    message:
      'The Claude agent has no credential. Set ANTHROPIC_API_KEY (an Anthropic API key) or ' +
      'CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) in $CLAWPOD_HOME/.env or the ' +
      "daemon's environment, then restart clawpod.",
  };
}
