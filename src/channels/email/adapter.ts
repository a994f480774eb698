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
import { bareAddress, mapMail } from './inbound.js';
import { fetchAccessToken, type OAuth2Settings } from './oauth.js';
import { Mailer, type SmtpSettings } from './outbound.js';
import { EmailState } from './state.js';

/** Settings of the email channel, secrets resolved (never logged). */
export interface EmailSettings {
  imap: { host: string; port: number; secure: boolean; user: string; password?: string };
  smtp: SmtpSettings;
  oauth2?: OAuth2Settings;
  /** `bot@example.com` or `Name <bot@example.com>`. */
  from: string;
  mailbox: string;
  /** The JSON file holding UID cursors and thread ids. */
  stateFile: string;
  reconnectDelayMs: number;
}

/** The IMAP connection's lifecycle. */
export type EmailConnection =
  | { name: 'stopped' }
  | { name: 'connecting'; attempt: number }
  | { name: 'connected'; client: ImapFlow }
  | { name: 'waiting'; attempt: number; timer: NodeJS.Timeout };

const MAX_RECONNECT_MS = 5 * 60_000;
/** Re-scan window before the last processed mail after a UIDVALIDITY change. */
const RESCAN_SLACK_MS = 24 * 60 * 60_000;

/**
 * The email channel: one IMAP mailbox in, SMTP out. Chats are sender addresses (`mail:<addr>`).
 * New mail arrives by IMAP IDLE (imapflow falls back to a STATUS check only on servers without
 * IDLE); a UID cursor per mailbox is persisted after each stored mail, so a restart neither
 * re-processes nor skips mail. Replies thread with In-Reply-To/References.
 */
export class EmailChannel implements Channel {
  readonly name = 'mail';
  /** One mail per reply. */
  readonly limits = { maxMessageLength: 100_000 };
  private readonly state: EmailState;
  private readonly mailer: Mailer;
  private readonly botAddress: string;
  private conn: EmailConnection = { name: 'stopped' };
  private sink?: InboundSink;
  private draining: Promise<void> = Promise.resolve();
  private lastError: string | null = null;
  private lastEventAt: number | null = null;

  constructor(
    private readonly settings: EmailSettings,
    private readonly log: Logger,
  ) {
    this.botAddress = bareAddress(settings.from);
    this.state = new EmailState(settings.stateFile);
    this.mailer = new Mailer(settings.smtp, settings.from, this.botAddress);
  }

  get connection(): EmailConnection {
    return this.conn;
  }

  owns(chatJid: string): boolean {
    return chatJid.startsWith('mail:');
  }

  /** Connects IMAP and drains new mail; never throws (failures retry in the background). */
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
    const platformId = await this.mailer.send({
      to,
      text,
      idemKey: opts.idemKey,
      inReplyTo: opts.replyTo,
      thread: this.state.thread(chatJid),
      files: opts.files,
    });
    this.lastEventAt = Date.now();
    return { platformId };
  }

  health(): ChannelHealth {
    return {
      connected: this.conn.name === 'connected',
      lastError: this.lastError,
      lastEventAt: this.lastEventAt,
    };
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
        logger: false,
        // IDLE 1 s after the last command (imapflow waits 15 s by default: mail would lag).
        autoIdleDelay: 1000,
        // Only on servers that lack IDLE: a STATUS check in its place, every `maxIdleTime`.
        missingIdleCommand: 'STATUS',
        maxIdleTime: 60_000,
      });
      const c = client;
      c.on('error', (err: Error) => {
        this.lastError = `IMAP: ${err.message}`;
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
      this.log.info({ mailbox: s.mailbox, host: s.imap.host }, 'email channel connected');
      // In the drain chain, so an `exists` arriving meanwhile waits its turn.
      const reconciled = this.draining.then(() =>
        this.reconcile(c, String(box.uidValidity), box.uidNext),
      );
      this.draining = reconciled.catch(() => undefined);
      await reconciled;
      this.drain(c);
      await this.draining;
    } catch (err) {
      this.lastError = `IMAP: ${(err as Error).message}`;
      this.log.warn({ err: this.lastError, attempt }, 'email channel could not connect');
      const stopped = this.isStopped();
      if (!stopped) this.conn = { name: 'connecting', attempt };
      client?.close();
      if (!stopped) this.retry(attempt + 1);
    }
  }

  /** First start: begin at the current end. UIDVALIDITY changed: re-scan recent mail by date. */
  private async reconcile(c: ImapFlow, uidValidity: string, uidNext: number): Promise<void> {
    const mailbox = this.settings.mailbox;
    const cursor = this.state.cursor(mailbox);
    if (!cursor) {
      this.state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null });
      return;
    }
    if (cursor.uidValidity === uidValidity) return;
    this.log.warn(
      { mailbox },
      'UIDVALIDITY changed: re-scanning recent mail (duplicates are skipped)',
    );
    this.state.setCursor(mailbox, { uidValidity, lastUid: 0, lastTs: cursor.lastTs });
    if (cursor.lastTs === null) {
      this.state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null });
      return;
    }
    const uids = await c.search(
      { since: new Date(cursor.lastTs - RESCAN_SLACK_MS) },
      { uid: true },
    );
    const list = uids ? [...uids].sort((a, b) => a - b) : [];
    if (list.length) await this.process(c, list.join(','), 0);
    else
      this.state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: cursor.lastTs });
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
        this.lastError = `IMAP fetch: ${(err as Error).message}`;
        this.log.warn({ err: this.lastError }, 'email fetch failed; retried on the next change');
      });
  }

  /** Fetches the UIDs in `range` above `after`, stores each in order, advancing the cursor. */
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
      if (m.source) {
        // A mail mailparser cannot read is logged and passed over, never retried forever.
        const parsed = await simpleParser(m.source).catch((err: unknown) => {
          this.log.warn({ uid: m.uid, err: (err as Error).message }, 'unreadable mail skipped');
          return null;
        });
        const mapped =
          parsed &&
          mapMail(parsed, {
            uidValidity: cursor.uidValidity,
            uid: m.uid,
            botAddress: this.botAddress,
            receivedAt,
          });
        if (mapped) {
          // Stored before the cursor moves: a crash here re-reads the mail, and the store
          // skips it as a duplicate (chat + Message-ID).
          await this.sink!.receive(mapped.inbound);
          this.state.noteInbound(
            mapped.inbound.chatJid,
            mapped.messageId,
            mapped.subject,
            mapped.references,
          );
        }
      }
      this.lastEventAt = Date.now();
      this.state.setCursor(mailbox, {
        uidValidity: cursor.uidValidity,
        lastUid: Math.max(cursor.lastUid, m.uid),
        lastTs: Math.max(cursor.lastTs ?? 0, receivedAt),
      });
    }
  }

  private onClose(c: ImapFlow): void {
    if (this.conn.name !== 'connected' || this.conn.client !== c) return;
    this.lastError ??= 'IMAP connection closed';
    this.log.warn('email IMAP connection closed; reconnecting');
    this.retry(1);
  }

  private retry(attempt: number): void {
    if (this.conn.name === 'stopped') return;
    const delay = Math.min(this.settings.reconnectDelayMs * 2 ** (attempt - 1), MAX_RECONNECT_MS);
    const timer = setTimeout(() => void this.open(attempt), delay);
    timer.unref();
    this.conn = { name: 'waiting', attempt, timer };
  }
}
