import type { LaunchProblem } from './agent-process.js';

/**
 * Why the `codex` harness cannot run with the daemon's environment (config.env: the process env
 * over `$CLAWPOD_HOME/.env`), or undefined when OPENAI_API_KEY is set. The egress proxy injects
 * that key; the sandbox only ever holds a placeholder. The message is shown in the chat as is.
 * Values are never read beyond presence.
 */
export function codexCredentialProblem(
  env: Readonly<Record<string, string | undefined>>,
): LaunchProblem | undefined {
  if (env.OPENAI_API_KEY?.trim()) return undefined;
  return {
    message:
      'The Codex agent has no credential. Set OPENAI_API_KEY (an OpenAI API key) in ' +
      "$CLAWPOD_HOME/.env or the daemon's environment, then restart clawpod.",
  };
}
