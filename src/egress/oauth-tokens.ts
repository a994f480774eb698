/**
 * The Claude OAuth token set and where it lives: the daemon env (as the owner set it) and the
 * refresher's state file `$CLAWPOD_HOME/credentials/claude-oauth.json` (0600), which holds the
 * newest refreshed tokens across restarts. The owner's `.env` is never rewritten.
 *
 * At start the state file wins only when it descends from the refresh token now in the env
 * (its `origin` is a hash of that token); when the owner puts a new login in the env, the env
 * wins and the old state is ignored.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { EgressConfigError } from './errors.js';

/** One access token with what is needed to renew it. `expiresAt`: epoch ms, 0 when unknown. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

const stateSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiresAt: z.number().nonnegative(),
  origin: z.string(),
});

/** Parses `CLAUDE_CODE_OAUTH_EXPIRES_AT`: epoch ms, epoch seconds, or ISO 8601. */
export function parseExpiry(raw: string): number {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < 1e11 ? n * 1000 : n;
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    throw new EgressConfigError(
      'CLAUDE_CODE_OAUTH_EXPIRES_AT must be epoch milliseconds, epoch seconds or an ISO 8601 time',
    );
  }
  return t;
}

const originOf = (refreshToken: string) =>
  createHash('sha256').update(refreshToken).digest('hex').slice(0, 32);

/**
 * The tokens to start from, or undefined when the env has no OAuth token with a refresh token
 * (then nothing is refreshed: an API key, or a long-lived token from `claude setup-token`).
 */
export function initialTokens(
  env: Readonly<Record<string, string>>,
  statePath: string,
): OAuthTokens | undefined {
  const accessToken = env.CLAUDE_CODE_OAUTH_TOKEN;
  const refreshToken = env.CLAUDE_CODE_OAUTH_REFRESH_TOKEN;
  if (!accessToken || !refreshToken) return undefined;
  const expiresRaw = env.CLAUDE_CODE_OAUTH_EXPIRES_AT;
  const fromEnv = {
    accessToken,
    refreshToken,
    expiresAt: expiresRaw ? parseExpiry(expiresRaw) : 0,
  };
  let raw: string;
  try {
    raw = readFileSync(statePath, 'utf8');
  } catch {
    return fromEnv;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fromEnv;
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success || parsed.data.origin !== originOf(refreshToken)) return fromEnv;
  const { origin: _origin, ...tokens } = parsed.data;
  return tokens;
}

/** Writes refreshed tokens (atomically, 0600), tagged with the env token they descend from. */
export function saveTokens(statePath: string, tokens: OAuthTokens, envRefreshToken: string): void {
  mkdirSync(dirname(statePath), { recursive: true, mode: 0o700 });
  const tmp = `${statePath}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...tokens, origin: originOf(envRefreshToken) }), {
    mode: 0o600,
  });
  renameSync(tmp, statePath);
}
