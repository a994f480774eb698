import type { SDKAssistantMessageError, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { CREDENTIAL_VARS } from './spec.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A failed turn as the runner reports it; `retryable: false` is answered in the chat at once. */
export interface TurnError {
  type: 'error';
  message: string;
  retryable: boolean;
}

/** Claude Code's message when a resume id has no transcript (any more). */
export const SESSION_MISSING = /No conversation found/i;

/** The message for a refused credential: names the variables to set. */
export function authError(detail: string): TurnError {
  return {
    type: 'error',
    message:
      `Claude refused the credential (${detail}). Set ANTHROPIC_API_KEY (an Anthropic API key) ` +
      'or CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) to a valid value in the ' +
      "environment or clawpod's .env, then restart clawpod.",
    retryable: false,
  };
}

/** Errors the user or owner must fix; retrying the same batch cannot help. */
const FATAL: Partial<Record<SDKAssistantMessageError, (detail: string, model: string) => string>> =
  {
    billing_error: (d) => `The Anthropic account has a billing problem: ${d}`,
    account_on_hold: (d) => `The Anthropic account is on hold: ${d}`,
    oauth_org_not_allowed: (d) => `This OAuth login may not be used here: ${d}`,
    verification_required: (d) => `The Anthropic account needs verification: ${d}`,
    model_not_found: (d, model) =>
      `The model ${model ? `"${model}" ` : ''}was not found (${d}); choose another with \`clawpod groups set <group> model=<name>\`.`,
    invalid_request: (d) => `The model API rejected the request: ${d}`,
  };

/**
 * Maps a failed turn: the API error kind Claude Code reported on its synthetic assistant
 * message (when there was one) and the `result` message's own text.
 */
export function turnError(
  r: SDKResultMessage,
  apiError: SDKAssistantMessageError | undefined,
  model: string,
): TurnError {
  const detail =
    (r.subtype === 'success' ? r.result : r.errors.join('; ')) || r.terminal_reason || r.subtype;
  if (apiError === 'authentication_failed') return authError(detail);
  const fatal = apiError ? FATAL[apiError] : undefined;
  if (fatal) return { type: 'error', message: fatal(detail, model), retryable: false };
  if (r.subtype === 'error_max_turns' || r.subtype === 'error_max_budget_usd')
    return {
      type: 'error',
      message: `Claude Code stopped: ${r.subtype} (${detail})`,
      retryable: false,
    };
  return {
    type: 'error',
    message: `Claude Code failed${apiError ? ` (${apiError})` : ''}: ${detail}`,
    retryable: true,
  };
}

/** Removes credential values from a text before it leaves the harness. */
export function redact(text: string, env: Env): string {
  let out = text;
  for (const v of CREDENTIAL_VARS) {
    const secret = env[v];
    if (secret && secret.length >= 8) out = out.split(secret).join(`<${v}>`);
  }
  return out;
}
