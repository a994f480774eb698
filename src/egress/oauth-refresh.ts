/**
 * Keeps the Claude OAuth access token fresh. One timer is armed for `expiresAt - marginMs` (no
 * polling); at that time the refresh token is exchanged at the token endpoint (OAuth 2.0
 * refresh grant, JSON body, as Claude Code's own login does), the new access token goes to the
 * credentials in memory and the new set to the state file. A failed refresh warns the owner in
 * `main` at once — while the current token still works — and is retried with backoff, unless
 * the endpoint refused the refresh token (then only a new login helps).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { OAuthRefreshError } from './errors.js';
import { saveTokens, type OAuthTokens } from './oauth-tokens.js';

/** Wall time and timers, injected (tests drive a fake clock). Same shape as the scheduler's. */
export interface EgressClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface OAuthRefresherOptions {
  initial: OAuthTokens;
  /** The refresh token as the owner set it (tags the state file; see oauth-tokens.ts). */
  envRefreshToken: string;
  tokenUrl: string;
  clientId: string;
  /** Refresh this long before expiry. */
  marginMs: number;
  statePath: string;
  clock: EgressClock;
  /** Receives each new access token (ModelCredentials.setOAuthToken). */
  onToken(accessToken: string): void;
  /** OutboxWorker.notifyOwner: deduplicated by key. */
  notifyOwner(key: string, text: string): void;
  log: Logger;
  fetch?: typeof fetch;
}

type RefreshState =
  | { name: 'created' }
  | { name: 'waiting'; timer: unknown; at: number }
  | { name: 'refreshing' }
  | { name: 'retrying'; timer: unknown; at: number }
  | { name: 'given-up'; reason: string }
  | { name: 'stopped' };

const MAX_TIMER_MS = 2 ** 31 - 1;
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 10 * 60_000;

const tokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive(),
});

/** The refresher's lifecycle: created → waiting ⇄ refreshing (→ retrying | given-up) → stopped. */
export class OAuthRefresher {
  private state: RefreshState = { name: 'created' };
  private tokens: OAuthTokens;
  private failures = 0;
  private readonly abort = new AbortController();

  constructor(private readonly opts: OAuthRefresherOptions) {
    this.tokens = { ...opts.initial };
  }

  /** Current state name and the time of the next attempt (for status and tests). */
  get status(): { state: RefreshState['name']; nextAt?: number; expiresAt: number } {
    const s = this.state;
    const nextAt = s.name === 'waiting' || s.name === 'retrying' ? s.at : undefined;
    return { state: s.name, nextAt, expiresAt: this.tokens.expiresAt };
  }

  /** Hands the current token to the credentials and arms the timer. */
  start(): void {
    if (this.state.name !== 'created') return;
    this.opts.onToken(this.tokens.accessToken);
    // Unknown expiry: refresh now to learn it.
    const at = this.tokens.expiresAt ? this.tokens.expiresAt - this.opts.marginMs : 0;
    this.arm('waiting', at);
  }

  stop(): void {
    const s = this.state;
    if (s.name === 'waiting' || s.name === 'retrying') this.opts.clock.clearTimeout(s.timer);
    this.abort.abort();
    this.state = { name: 'stopped' };
  }

  private arm(name: 'waiting' | 'retrying', at: number): void {
    const { clock } = this.opts;
    const delay = Math.max(0, at - clock.now());
    // Longer than a Node timer can wait: wake up at the limit and arm again.
    const fire = delay > MAX_TIMER_MS ? () => this.arm(name, at) : () => void this.refresh();
    this.state = { name, at, timer: clock.setTimeout(fire, Math.min(delay, MAX_TIMER_MS)) };
  }

  /** One refresh attempt; exposed for tests and for an owner-triggered retry. */
  async refresh(): Promise<boolean> {
    if (this.state.name === 'stopped' || this.state.name === 'refreshing') return false;
    this.state = { name: 'refreshing' };
    const { log, clock } = this.opts;
    try {
      const next = await this.exchange();
      if (this.currentState() === 'stopped') return false;
      this.tokens = next;
      saveTokens(this.opts.statePath, next, this.opts.envRefreshToken);
      this.opts.onToken(next.accessToken);
      log.info(
        { expiresAt: new Date(next.expiresAt).toISOString() },
        'Claude OAuth token refreshed',
      );
      if (this.failures > 0) {
        this.opts.notifyOwner(
          `oauth-refresh-ok:${next.expiresAt}`,
          '✅ The Claude OAuth token was refreshed again; Claude runs work as before.',
        );
      }
      this.failures = 0;
      this.arm('waiting', next.expiresAt - this.opts.marginMs);
      return true;
    } catch (err) {
      if (this.currentState() === 'stopped') return false;
      const e =
        err instanceof OAuthRefreshError
          ? err
          : new OAuthRefreshError(err instanceof Error ? err.message : String(err), true);
      this.failures++;
      log.warn({ err: e.message, failures: this.failures }, 'Claude OAuth token refresh failed');
      if (this.failures === 1) this.warnOwner(e);
      if (!e.retryable) {
        this.state = { name: 'given-up', reason: e.message };
        return false;
      }
      const wait = Math.min(RETRY_BASE_MS * 2 ** (this.failures - 1), RETRY_MAX_MS);
      this.arm('retrying', clock.now() + wait);
      return false;
    }
  }

  private currentState(): RefreshState['name'] {
    return this.state.name;
  }

  private async exchange(): Promise<OAuthTokens> {
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(this.opts.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          grant_type: 'refresh_token',
          refresh_token: this.tokens.refreshToken,
          client_id: this.opts.clientId,
        }),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(30_000)]),
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new OAuthRefreshError(`the token endpoint could not be reached (${why})`, true);
    }
    if (!res.ok) {
      // 400/401: the refresh token was refused (invalid_grant): retrying cannot help.
      const refused = res.status === 400 || res.status === 401;
      throw new OAuthRefreshError(`the token endpoint answered HTTP ${res.status}`, !refused);
    }
    const parsed = tokenResponse.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) {
      throw new OAuthRefreshError('the token endpoint answered without an access token', true);
    }
    return {
      accessToken: parsed.data.access_token,
      refreshToken: parsed.data.refresh_token ?? this.tokens.refreshToken,
      expiresAt: this.opts.clock.now() + parsed.data.expires_in * 1000,
    };
  }

  private warnOwner(e: OAuthRefreshError): void {
    const { expiresAt } = this.tokens;
    const left = expiresAt ? expiresAt - this.opts.clock.now() : 0;
    const when =
      left > 0
        ? `The current token works until ${new Date(expiresAt).toISOString()} (about ${Math.ceil(left / 60_000)} min); after that Claude runs will fail.`
        : 'The current token may already have expired: Claude runs may fail.';
    const retry = e.retryable ? ' clawpod keeps retrying.' : ' Retrying cannot help.';
    this.opts.notifyOwner(
      `oauth-refresh-failed:${expiresAt}`,
      `⚠️ clawpod could not refresh the Claude OAuth token: ${e.message}. ${when}${retry} ` +
        'To fix: log in again (claude /login, or `claude setup-token` for a long-lived token), put the new ' +
        'CLAUDE_CODE_OAUTH_TOKEN (and CLAUDE_CODE_OAUTH_REFRESH_TOKEN, CLAUDE_CODE_OAUTH_EXPIRES_AT) in ' +
        '$CLAWPOD_HOME/.env and restart clawpod.',
    );
  }
}
