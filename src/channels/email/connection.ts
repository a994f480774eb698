import { ImapFlow, type MailboxObject } from 'imapflow';
import type { Logger } from 'pino';
import { Reconnector } from '../kit/reconnect.js';
import { imapFailure, type MailFailure } from './errors.js';
import { fetchAccessToken, type OAuth2Settings } from './oauth.js';

/** What the IMAP side needs: the server, the login (password or OAuth2), the mailbox. */
export interface ImapSettings {
  imap: { host: string; port: number; secure: boolean; user: string; password?: string };
  oauth2?: OAuth2Settings;
  /** PEM text of extra CAs trusted for IMAP. */
  ca?: string;
  mailbox: string;
  /** First delay before reconnecting after a drop or a failed attempt; doubles up to 5 min. */
  reconnectDelayMs: number;
  /** Logins refused in a row before the link stops trying (a lockout risk otherwise). */
  maxAuthFailures?: number;
  /** Tells the owner (deduplicated by key); absent outside a daemon. */
  notifyOwner?: (key: string, text: string) => void;
}

/** The IMAP connection's lifecycle. `failed`: the server refused the login; no more tries. */
export type EmailConnection =
  | { name: 'stopped' }
  | { name: 'connecting'; attempt: number }
  | { name: 'connected'; client: ImapFlow }
  | { name: 'waiting'; attempt: number; retryAt: number }
  | { name: 'failed'; failure: MailFailure };

export interface ImapLinkHooks {
  /**
   * The mailbox is open on a fresh client: catch up (reconcile the cursor, read new mail).
   * Awaited as part of the attempt; a rejection fails it.
   */
  opened(client: ImapFlow, box: MailboxObject): Promise<void>;
  /** The server announced new mail on the current client. */
  exists(client: ImapFlow): void;
}

const MAX_RECONNECT_MS = 5 * 60_000;
const DEFAULT_MAX_AUTH_FAILURES = 3;

/**
 * The link to the IMAP server: one client at a time, IDLE on the mailbox (imapflow falls back to
 * a STATUS check only on servers without IDLE), reopened with backoff by a Reconnector when it
 * closes or an attempt fails. A refused login counts; after `maxAuthFailures` in a row the link
 * stops (retrying would risk locking the account) and tells the owner. Errors carry the
 * server's words, with the secrets masked.
 */
export class ImapLink {
  /** The client whose mailbox is open (set once mailboxOpen succeeded, until it closes). */
  private client: ImapFlow | undefined;
  private failure: MailFailure | undefined;
  private authFailures = 0;
  private readonly link: Reconnector;
  lastError: string | null = null;

  constructor(
    private readonly settings: ImapSettings,
    private readonly secrets: (string | undefined)[],
    private readonly hooks: ImapLinkHooks,
    private readonly log: Logger,
  ) {
    this.link = new Reconnector({
      backoff: { firstMs: settings.reconnectDelayMs, maxMs: MAX_RECONNECT_MS },
      open: (attempt) => this.open(attempt),
    });
  }

  get state(): EmailConnection {
    if (this.failure) return { name: 'failed', failure: this.failure };
    const s = this.link.state;
    if (s.name === 'idle' || s.name === 'stopped') return { name: 'stopped' };
    if (this.client) return { name: 'connected', client: this.client };
    if (s.name === 'reconnecting')
      return { name: 'waiting', attempt: s.attempt, retryAt: s.retryAt };
    return { name: 'connecting', attempt: s.name === 'connecting' ? s.attempt : 0 };
  }

  /** Whether `c` is the current client (work for an older one is dropped). */
  isCurrent(c: ImapFlow): boolean {
    return this.client === c;
  }

  /** Connects and catches up; resolves after the first attempt (failures retry in the background). */
  async start(): Promise<void> {
    if (this.state.name !== 'stopped') return;
    await this.link.start();
  }

  /** Stops; returns the client that was open, for the caller to log out once its work is done. */
  stop(): ImapFlow | undefined {
    const c = this.client;
    this.client = undefined;
    this.link.stop();
    return c;
  }

  private async open(attempt: number): Promise<void> {
    const s = this.settings;
    let client: ImapFlow | undefined;
    try {
      const auth = s.oauth2
        ? { user: s.oauth2.user, accessToken: await fetchAccessToken(s.oauth2) }
        : { user: s.imap.user, pass: s.imap.password ?? '' };
      client = new ImapFlow({
        host: s.imap.host,
        port: s.imap.port,
        secure: s.imap.secure,
        auth,
        ...(s.ca ? { tls: { ca: s.ca } } : {}),
        logger: false,
        // IDLE 1 s after the last command (imapflow waits 15 s by default: mail would lag).
        autoIdleDelay: 1000,
        // Only on servers that lack IDLE: a STATUS check in its place, every `maxIdleTime`.
        missingIdleCommand: 'STATUS',
        maxIdleTime: 60_000,
      });
      const c = client;
      c.on('error', (err: Error) => {
        this.lastError = `IMAP ${imapFailure(err, this.secrets).reason}`;
      });
      c.on('close', () => this.onClose(c));
      c.on('exists', () => {
        if (this.client === c) this.hooks.exists(c);
      });
      await c.connect();
      const box = await c.mailboxOpen(s.mailbox);
      if (this.link.stopped) {
        await c.logout().catch(() => undefined);
        return;
      }
      this.client = c;
      this.lastError = null;
      this.authFailures = 0;
      this.log.info({ mailbox: s.mailbox, host: s.imap.host }, 'email IMAP connected');
      await this.hooks.opened(c, box);
    } catch (err) {
      const failure = imapFailure(err, this.secrets);
      this.lastError = `IMAP ${failure.reason}`;
      if (client && this.client === client) this.client = undefined;
      client?.close();
      if (this.link.stopped) throw err;
      if (failure.kind === 'auth') {
        this.authFailures++;
        const max = s.maxAuthFailures ?? DEFAULT_MAX_AUTH_FAILURES;
        if (this.authFailures >= max) {
          this.giveUp(failure);
          throw err;
        }
      }
      this.log.warn(
        { err: this.lastError, fix: failure.fix, attempt },
        'email IMAP could not connect; retrying',
      );
      throw err;
    }
  }

  /** The server refused the login `maxAuthFailures` times in a row: stop before a lockout. */
  private giveUp(failure: MailFailure): void {
    this.failure = failure;
    this.link.stop(failure.reason);
    this.lastError = `IMAP ${failure.reason} (stopped after ${this.authFailures} attempts)`;
    this.log.error(
      { err: this.lastError, fix: failure.fix },
      'email IMAP login refused repeatedly; not retrying until clawpod restarts',
    );
    this.settings.notifyOwner?.(
      `email-auth:${this.settings.imap.host}:${Date.now()}`,
      `⚠️ Email: the IMAP server ${this.settings.imap.host} refused the login ${this.authFailures} times (${failure.reason}). ` +
        `clawpod stopped trying so the account is not locked. Fix: ${failure.fix}.`,
    );
  }

  private onClose(c: ImapFlow): void {
    if (this.client !== c) return;
    this.client = undefined;
    this.lastError ??= 'IMAP connection closed';
    this.log.warn('email IMAP connection closed; reconnecting');
    this.link.lost(new Error('IMAP connection closed'));
  }
}
