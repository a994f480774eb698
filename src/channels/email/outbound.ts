import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type OutboundFile } from '../channel.js';
import { smtpFailure, type MailFailure } from './errors.js';
import { AUTO_REPLY_HEADERS, replyMessageId, replyReferences, replySubject } from './format.js';
import type { ThreadInfo } from './state.js';

/** SMTP settings with secrets already resolved. */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?:
    | { kind: 'password'; user: string; pass: string }
    | {
        kind: 'oauth2';
        user: string;
        clientId: string;
        clientSecret: string;
        refreshToken: string;
        tokenUrl: string;
      };
  /** PEM text of the CA(s) to trust besides the system's (`channels.email.tls.ca`). */
  ca?: string;
}

/** One reply mail: where, what, and which mail it answers. */
export interface OutgoingMail {
  to: string;
  text: string;
  idemKey: string;
  /** The mail answered: In-Reply-To its id, References its thread, `Re:` its subject. */
  answers?: ThreadInfo;
  files?: OutboundFile[];
}

/** The SMTP error as a DeliveryError: refusals are final, the rest is retried by the outbox. */
export function toDeliveryError(f: MailFailure): DeliveryError {
  const message = `SMTP ${f.reason}`;
  if (f.kind === 'refused') return new DeliveryError(message, { permanent: true });
  // A wrong password or a temporary refusal: waiting a minute beats hammering the server.
  if (f.kind === 'auth' || f.kind === 'deferred')
    return new DeliveryError(`${message} (${f.fix})`, { retryAfterMs: 60_000 });
  return new DeliveryError(f.kind === 'other' ? message : `${message} (${f.fix})`);
}

/**
 * Sends replies over SMTP with nodemailer, formatted and threaded by format.ts (the Message-ID
 * derived from the idempotency key, so a retried piece carries the same id).
 */
export class Mailer {
  private readonly transport: Transporter;
  private readonly domain: string;
  private readonly secrets: string[];

  constructor(
    settings: SmtpSettings,
    private readonly from: string,
    fromAddress: string,
  ) {
    this.domain = fromAddress.split('@')[1] ?? 'clawpod.invalid';
    const a = settings.auth;
    this.secrets =
      a?.kind === 'password'
        ? [a.pass]
        : a?.kind === 'oauth2'
          ? [a.clientSecret, a.refreshToken]
          : [];
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      // STARTTLS is used when offered, not demanded (loopback relays); certificates are checked.
      ...(settings.ca ? { tls: { ca: settings.ca } } : {}),
      ...(a?.kind === 'password' ? { auth: { user: a.user, pass: a.pass } } : {}),
      ...(a?.kind === 'oauth2'
        ? {
            auth: {
              type: 'OAuth2' as const,
              user: a.user,
              clientId: a.clientId,
              clientSecret: a.clientSecret,
              refreshToken: a.refreshToken,
              accessUrl: a.tokenUrl,
            },
          }
        : {}),
    });
  }

  /**
   * Sends one mail; returns its Message-ID. Throws a MailError carrying the failure (the
   * server's words, masked) and the DeliveryError for the outbox.
   */
  async send(mail: OutgoingMail): Promise<string> {
    const messageId = replyMessageId(mail.idemKey, this.domain);
    const parent = mail.answers;
    const refs = replyReferences(parent);
    const subject = replySubject(parent);
    try {
      await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject,
        text: mail.text,
        messageId,
        headers: { ...AUTO_REPLY_HEADERS },
        ...(parent ? { inReplyTo: parent.messageId } : {}),
        ...(refs.length ? { references: refs } : {}),
        attachments: (mail.files ?? []).map((f) => ({ filename: f.name, path: f.path })),
      });
    } catch (err) {
      throw new MailError(smtpFailure(err, this.secrets));
    }
    return messageId;
  }

  /** Connects and logs in without sending (doctor). Resolves null when fine, else the failure. */
  async verify(): Promise<MailFailure | null> {
    try {
      await this.transport.verify();
      return null;
    } catch (err) {
      return smtpFailure(err, this.secrets);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** A failed send: the failure for health and the owner, the DeliveryError for the outbox. */
export class MailError extends Error {
  readonly delivery: DeliveryError;
  constructor(readonly failure: MailFailure) {
    super(`SMTP ${failure.reason}`);
    this.name = 'MailError';
    this.delivery = toDeliveryError(failure);
  }
}
