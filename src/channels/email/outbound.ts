import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type OutboundFile } from '../channel.js';
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
}

/** One reply mail: where, what, and which thread it continues. */
export interface OutgoingMail {
  to: string;
  text: string;
  idemKey: string;
  inReplyTo?: string | null;
  thread?: ThreadInfo;
  files?: OutboundFile[];
}

/**
 * Sends replies over SMTP with nodemailer. The Message-ID is derived from the idempotency key,
 * so a retried piece carries the same id and mail clients show it once.
 */
export class Mailer {
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(
    settings: SmtpSettings,
    private readonly from: string,
    fromAddress: string,
  ) {
    this.domain = fromAddress.split('@')[1] ?? 'clawpod.invalid';
    const a = settings.auth;
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      // Loopback test servers and STARTTLS-less relays: TLS is used when offered, not demanded.
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

  /** Sends one mail; returns its Message-ID. Throws DeliveryError (4xx: retry, 5xx: permanent). */
  async send(mail: OutgoingMail): Promise<string> {
    const messageId = `<${createHash('sha256').update(mail.idemKey).digest('hex').slice(0, 32)}@${this.domain}>`;
    const inReplyTo = mail.inReplyTo ?? mail.thread?.messageId;
    const refs = [...(mail.thread?.references ?? [])];
    if (inReplyTo && !refs.includes(inReplyTo)) refs.push(inReplyTo);
    const base = mail.thread?.subject ?? '';
    const subject = base ? (/^re:/i.test(base) ? base : `Re: ${base}`) : 'Reply';
    try {
      await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject,
        text: mail.text,
        messageId,
        ...(inReplyTo ? { inReplyTo } : {}),
        ...(refs.length ? { references: refs } : {}),
        attachments: (mail.files ?? []).map((f) => ({ filename: f.name, path: f.path })),
      });
    } catch (err) {
      throw toDeliveryError(err);
    }
    return messageId;
  }

  close(): void {
    this.transport.close();
  }
}

/** SMTP replies: 5xx refuse for good, 4xx and network errors are retried. No secret is quoted. */
export function toDeliveryError(err: unknown): DeliveryError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const code = e.responseCode;
  if (code && code >= 500) return new DeliveryError(`SMTP refused (${code})`, { permanent: true });
  if (code && code >= 400)
    return new DeliveryError(`SMTP deferred (${code})`, { retryAfterMs: 60_000 });
  return new DeliveryError(`SMTP failed: ${e.code ?? 'error'}`);
}
