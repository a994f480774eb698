import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { ImapLink, type EmailConnection, type ImapSettings } from './connection.js';
import { bareAddress } from './inbound.js';
import { MailboxReader } from './mailbox.js';
import { MailError, Mailer, type SmtpSettings } from './outbound.js';
import { EmailState, type ThreadInfo } from './state.js';

/** Settings of the email channel, secrets resolved (never logged). */
export interface EmailSettings extends ImapSettings {
  smtp: SmtpSettings;
  /** `bot@example.com` or `Name <bot@example.com>`. */
  from: string;
  /** The JSON file holding UID cursors and thread ids. */
  stateFile: string;
}

export type { EmailConnection } from './connection.js';

/**
 * The email channel: one IMAP mailbox in, SMTP out. Chats are sender addresses (`mail:<addr>`).
 * New mail arrives by IMAP IDLE and is read in UID order (mailbox.ts), with a UID cursor per
 * mailbox persisted after each stored mail, so a restart neither re-processes nor skips mail.
 * A reply threads to the mail it answers (`replyTo`): In-Reply-To, References and `Re:` its
 * subject. A refused login is retried a few times, then the channel stops and tells the owner
 * (connection.ts); a failing send marks the channel unhealthy until one succeeds.
 */
export class EmailChannel implements Channel {
  readonly name = 'email';
  /** One mail per reply. */
  readonly limits = { maxMessageLength: 100_000 };
  private readonly state: EmailState;
  private readonly mailer: Mailer;
  private readonly link: ImapLink;
  private readonly reader: MailboxReader;
  private sink?: InboundSink;
  /** The last send's failure, until a send succeeds. */
  private smtpError: string | null = null;
  private lastEventAt: number | null = null;

  constructor(
    private readonly settings: EmailSettings,
    private readonly log: Logger,
  ) {
    const botAddress = bareAddress(settings.from);
    this.state = new EmailState(settings.stateFile);
    this.mailer = new Mailer(settings.smtp, settings.from, botAddress);
    const secrets = [
      settings.imap.password,
      settings.oauth2?.clientSecret,
      settings.oauth2?.refreshToken,
    ];
    this.reader = new MailboxReader({
      mailbox: settings.mailbox,
      botAddress,
      state: this.state,
      sink: () => this.sink,
      isCurrent: (c) => this.link.isCurrent(c),
      secrets,
      onMail: () => {
        this.lastEventAt = Date.now();
      },
      onError: (message) => {
        this.link.lastError = message;
      },
      log,
    });
    this.link = new ImapLink(
      settings,
      secrets,
      { opened: (c, box) => this.reader.opened(c, box), exists: (c) => this.reader.drain(c) },
      log,
    );
  }

  get connection(): EmailConnection {
    return this.link.state;
  }

  owns(chatId: string): boolean {
    return chatId.startsWith('mail:');
  }

  /**
   * Connects IMAP and drains new mail; never throws. Returns after the first attempt: check
   * `health()` for its outcome (failures retry in the background).
   */
  async connect(sink: InboundSink): Promise<void> {
    if (this.link.state.name !== 'stopped') return;
    this.sink = sink;
    await this.link.start();
  }

  async disconnect(): Promise<void> {
    const client = this.link.stop();
    if (client) {
      await this.reader.draining.catch(() => undefined);
      await client.logout().catch(() => client.close());
    }
    this.mailer.close();
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    const to = chatId.slice('mail:'.length);
    if (!to.includes('@'))
      throw new DeliveryError(`not a mail chat: ${chatId}`, { permanent: true });
    try {
      const platformId = await this.mailer.send({
        to,
        text,
        idemKey: opts.idemKey,
        answers: this.answered(chatId, opts.replyTo),
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
      connected: this.link.state.name === 'connected' && this.smtpError === null,
      lastError: this.smtpError ?? this.link.lastError,
      lastEventAt: this.lastEventAt,
    };
  }

  /**
   * The mail a reply answers: the one whose Message-ID is `replyTo`; without `replyTo`, the
   * chat's newest mail. A `replyTo` no longer remembered still threads by its id.
   */
  private answered(chatId: string, replyTo: string | null | undefined): ThreadInfo | undefined {
    const newest = this.state.thread(chatId);
    if (!replyTo) return newest;
    const known = this.state.mail(replyTo);
    if (known) return known;
    return { messageId: replyTo, subject: newest?.subject ?? '', references: [replyTo] };
  }
}
