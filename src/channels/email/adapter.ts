import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { imapFailure, type MailFailure } from './errors.js';
import { bareAddress, mapMail } from './inbound.js';
import { fetchAccessToken, type OAuth2Settings } from './oauth.js';
import { MailError, Mailer, type SmtpSettings } from './outbound.js';
import { EmailState, type ThreadInfo } from './state.js';

/** Settings of the email channel, secrets resolved (never logged). */
export interface EmailSettings {
  imap: { host: string; port: number; secure: boolean; user: string; password?: string };
  smtp: SmtpSettings;
  oauth2?: OAuth2Settings;
  /** PEM text of extra CAs trusted for IMAP (SMTP has its own copy in `smtp.ca`). */
  ca?: string;
  /** `bot@example.com` or `Name <bot@example.com>`. */
  from: string;
  mailbox: string;
  /** The JSON file holding UID cursors and thread ids. */
  stateFile: string;
  reconnectDelayMs: number;
  /** Logins refused in a row before the channel stops trying (a lockout risk otherwise). */
  maxAuthFailures?: number;
  /** Tells the owner (deduplicated by key); absent outside a daemon. */
  notifyOwner?: (key: string, text: string) => void;
}

/** The IMAP connection's lifecycle. `failed`: the server refused the login; no more tries. */
export type EmailConnection =
  | { name: 'stopped' }
  | { name: 'connecting'; attempt: number }
  | { name: 'connected'; client: ImapFlow }
  | { name: 'waiting'; attempt: number; timer: NodeJS.Timeout }
  | { name: 'failed'; failure: MailFailure };

const MAX_RECONNECT_MS = 5 * 60_000;
/** Re-scan window before the last processed mail after a UIDVALIDITY change. */
const RESCAN_SLACK_MS = 24 * 60 * 60_000;
const DEFAULT_MAX_AUTH_FAILURES = 3;

/**
 * The email channel: one IMAP mailbox in, SMTP out. Chats are sender addresses (`mail:<addr>`).
 * New mail arrives by IMAP IDLE (imapflow falls back to a STATUS check only on servers without
 * IDLE); a UID cursor per mailbox is persisted after each stored mail, so a restart neither
 * re-processes nor skips mail. A reply threads to the mail it answers (`replyTo`): In-Reply-To,
 * References and `Re:` its subject. A refused login is retried a few times, then the channel
 * stops and tells the owner; a failing send marks the channel unhealthy until one succeeds.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';
  /** One mail per reply. */
  readonly limits = { maxMessageLength: 100_000 };
  private readonly state: EmailState;
  private readonly mailer: Mailer;
  private readonly botAddress: string;
  private readonly secrets: (string | undefined)[];
  private conn: EmailConnection = { name: 'stopped' };
  private sink?: InboundSink;
  private draining: Promise<void> = Promise.resolve();
  private lastError: string | null = null;
  /** The last send's failure, until a send succeeds. */
  private smtpError: string | null = null;
  private authFailures = 0;
  private lastEventAt: number | null = null;

  constructor(
    private readonly settings: EmailSettings,
    private readonly log: Logger,
  ) {
    this.botAddress = bareAddress(settings.from);
    this.state = new EmailState(settings.stateFile);
    this.mailer = new Mailer(settings.smtp, settings.from, this.botAddress);
    this.secrets = [
      settings.imap.password,
      settings.oauth2?.clientSecret,
      settings.oauth2?.refreshToken,
    ];
  }

  get connection(): EmailConnection {
    return this.conn;
  }

  owns(chatJid: string): boolean {
    return chatJid.startsWith('mail:');
  }

  /**
   * Connects IMAP and drains new mail; never throws. Returns after the first attempt: check
   * `health()` for its outcome (failures retry in the background).
   */
  async connect(sink: InboundSink): Promise<void> {
    if (this.conn.name !== 'stopped') return;
    this.sink = sink;
    await this.open(0);
  }

  async disconnect(): Promise<void> {
    const conn = this.conn;
    this.conn = { name: 'stopped' };
    if (conn.name === 'waiting') clearTimeout(conn.timer);
    if (conn.name === 'connected') {
      await this.draining.catch(() => undefined);
      await conn.client.logout().catch(() => conn.client.close());
    }
    this.mailer.close();
  }

  async send(chatJid: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    const to = chatJid.slice('mail:'.length);
    if (!to.includes('@'))
      throw new DeliveryError(`not a mail chat: ${chatJid}`, { permanent: true });
    try {
      const platformId = await this.mailer.send({
        to,
        text,
        idemKey: opts.idemKey,
        answers: this.answered(chatJid, opts.replyTo),
        files: opts.files,
      });
      this.smtpError = null;
      this.lastEventAt = Date.now();
      return { platformId };
    } catch (err) {
      if (!(err instanceof MailError)) throw err;
      // A refused address is about that mail; anything else (login, TLS, network) about us.
      if (err.failure.kind !== 'refused') this.smtpError = err.message;
      this.log.warn({ err: err.message, fix: err.failure.fix }, 'email send failed');
      throw err.delivery;
    }
  }

  health(): ChannelHealth {
    return {
      connected: this.conn.name === 'connected' && this.smtpError === null,
      lastError: this.smtpError ?? this.lastError,
      lastEventAt: this.lastEventAt,
    };
  }

  /**
   * The mail a reply answers: the one whose Message-ID is `replyTo`; without `replyTo`, the
   * chat's newest mail. A `replyTo` no longer remembered still threads by its id.
   */
  private answered(chatJid: string, replyTo: string | null | undefined): ThreadInfo | undefined {
    const newest = this.state.thread(chatJid);
    if (!replyTo) return newest;
    const known = this.state.mail(replyTo);
    if (known) return known;
    return { messageId: replyTo, subject: newest?.subject ?? '', references: [replyTo] };
  }

  private async open(attempt: number): Promise<void> {
    this.conn = { name: 'connecting', attempt };
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
      c.on('exists', () => this.drain(c));
      await c.connect();
      const box = await c.mailboxOpen(s.mailbox);
      if (this.conn.name !== 'connecting') {
        await c.logout().catch(() => undefined);
        return;
      }
      this.conn = { name: 'connected', client: c };
      this.lastError = null;
      this.authFailures = 0;
      this.log.info({ mailbox: s.mailbox, host: s.imap.host }, 'email IMAP connected');
      // In the drain chain, so an `exists` arriving meanwhile waits its turn.
      const reconciled = this.draining.then(() =>
        this.reconcile(c, String(box.uidValidity), box.uidNext, box.exists),
      );
      this.draining = reconciled.catch(() => undefined);
      await reconciled;
      this.drain(c);
      await this.draining;
    } catch (err) {
      const failure = imapFailure(err, this.secrets);
      this.lastError = `IMAP ${failure.reason}`;
      client?.close();
      if (this.isStopped()) return;
      if (failure.kind === 'auth') {
        this.authFailures++;
        const max = s.maxAuthFailures ?? DEFAULT_MAX_AUTH_FAILURES;
        if (this.authFailures >= max) return this.giveUp(failure);
      }
      this.log.warn(
        { err: this.lastError, fix: failure.fix, attempt },
        'email IMAP could not connect; retrying',
      );
      this.conn = { name: 'connecting', attempt };
      this.retry(attempt + 1);
    }
  }

  /** The server refused the login `maxAuthFailures` times in a row: stop before a lockout. */
  private giveUp(failure: MailFailure): void {
    this.conn = { name: 'failed', failure };
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

  /**
   * First start: begin at the current end, remembering the newest skipped mail's time so no
   * later re-scan reads it. UIDVALIDITY changed: re-scan recent mail by date.
   */
  private async reconcile(
    c: ImapFlow,
    uidValidity: string,
    uidNext: number,
    exists: number,
  ): Promise<void> {
    const mailbox = this.settings.mailbox;
    const cursor = this.state.cursor(mailbox);
    if (!cursor) {
      const newest = exists > 0 ? await c.fetchOne('*', { internalDate: true, uid: true }) : false;
      const floorTs =
        newest && newest.internalDate ? new Date(newest.internalDate).getTime() : null;
      this.state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null, floorTs });
      return;
    }
    if (cursor.uidValidity === uidValidity) return;
    this.log.warn(
      { mailbox },
      'UIDVALIDITY changed: re-scanning recent mail (duplicates are skipped)',
    );
    const floorTs = cursor.floorTs;
    if (cursor.lastTs === null) {
      this.state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null, floorTs });
      return;
    }
    this.state.setCursor(mailbox, { uidValidity, lastUid: 0, lastTs: cursor.lastTs, floorTs });
    const uids = await c.search(
      { since: new Date(cursor.lastTs - RESCAN_SLACK_MS) },
      { uid: true },
    );
    const list = uids ? [...uids].sort((a, b) => a - b) : [];
    if (list.length) await this.process(c, list.join(','), 0);
    const after = this.state.cursor(mailbox)!;
    if (after.lastUid < uidNext - 1)
      this.state.setCursor(mailbox, { ...after, lastUid: uidNext - 1 });
  }

  /** Read through a method: TypeScript would keep a narrowing across the awaits otherwise. */
  private isStopped(): boolean {
    return this.conn.name === 'stopped';
  }

  private drain(c: ImapFlow): void {
    this.draining = this.draining
      .then(async () => {
        if (this.conn.name !== 'connected' || this.conn.client !== c) return;
        const cursor = this.state.cursor(this.settings.mailbox);
        if (!cursor) return;
        if (c.mailbox && c.mailbox.exists === 0) return;
        await this.process(c, `${cursor.lastUid + 1}:*`, cursor.lastUid);
      })
      .catch((err: unknown) => {
        this.lastError = `IMAP fetch failed: ${imapFailure(err, this.secrets).reason}`;
        this.log.warn({ err: this.lastError }, 'email fetch failed; retried on the next change');
      });
  }

  /**
   * Fetches the UIDs in `range` above `after`, stores each in order, advancing the cursor.
   * Mail received at or before the cursor's `floorTs` (skipped at the first start) is passed over.
   */
  private async process(c: ImapFlow, range: string, after: number): Promise<void> {
    const mailbox = this.settings.mailbox;
    const found = await c.fetchAll(
      range,
      { uid: true, source: true, internalDate: true },
      { uid: true },
    );
    const fresh = found.filter((m) => m.uid > after).sort((a, b) => a.uid - b.uid);
    for (const m of fresh) {
      const cursor = this.state.cursor(mailbox)!;
      const receivedAt = m.internalDate ? new Date(m.internalDate).getTime() : Date.now();
      const skipped = cursor.floorTs !== null && receivedAt <= cursor.floorTs;
      if (m.source && !skipped) await this.store(m.uid, m.source, receivedAt);
      this.lastEventAt = Date.now();
      this.state.setCursor(mailbox, {
        ...cursor,
        lastUid: Math.max(cursor.lastUid, m.uid),
        lastTs: skipped ? cursor.lastTs : Math.max(cursor.lastTs ?? 0, receivedAt),
      });
    }
  }

  /** Parses one mail and hands it to the sink; remembers it for threading replies. */
  private async store(uid: number, source: Buffer, receivedAt: number): Promise<void> {
    // A mail mailparser cannot read is logged and passed over, never retried forever.
    const parsed = await simpleParser(source).catch((err: unknown) => {
      this.log.warn({ uid, err: (err as Error).message }, 'unreadable mail skipped');
      return null;
    });
    const mapped = parsed && mapMail(parsed, { botAddress: this.botAddress, receivedAt });
    if (!mapped) return;
    if (mapped.automatic)
      this.log.info(
        { chat: mapped.inbound.chatJid, why: mapped.automatic },
        'automatic mail stored as context; it is not answered',
      );
    // Stored before the cursor moves: a crash here re-reads the mail, and the store skips it
    // as a duplicate (chat + Message-ID).
    await this.sink!.receive(mapped.inbound);
    this.state.noteInbound(
      mapped.inbound.chatJid,
      mapped.messageId,
      mapped.subject,
      mapped.references,
      { newest: !mapped.automatic },
    );
  }

  private onClose(c: ImapFlow): void {
    if (this.conn.name !== 'connected' || this.conn.client !== c) return;
    this.lastError ??= 'IMAP connection closed';
    this.log.warn('email IMAP connection closed; reconnecting');
    this.retry(1);
  }

  private retry(attempt: number): void {
    if (this.conn.name === 'stopped' || this.conn.name === 'failed') return;
    const delay = Math.min(this.settings.reconnectDelayMs * 2 ** (attempt - 1), MAX_RECONNECT_MS);
    const timer = setTimeout(() => void this.open(attempt), delay);
    timer.unref();
    this.conn = { name: 'waiting', attempt, timer };
  }
}
