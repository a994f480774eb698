import { z } from 'zod';
import { secretRef } from '../../config/secret.js';
import type { ChannelFactory } from '../channel.js';

/** `channels.email` in config.yaml (docs/channels/email.md): one mailbox, each sender a chat. */
export const emailSettings = z
  .strictObject({
    /** Inbound: IMAP with IDLE. `password` or the `oauth2` block authenticates. */
    imap: z.strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(993),
      /** TLS from the first byte (993); false for plain/STARTTLS ports (143, tests). */
      secure: z.boolean().default(true),
      user: z.string().min(1),
      password: secretRef.optional(),
    }),
    /** Outbound: SMTP. `password` or the `oauth2` block authenticates; neither: no auth. */
    smtp: z.strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(465),
      secure: z.boolean().default(true),
      user: z.string().min(1).optional(),
      password: secretRef.optional(),
    }),
    /** The bot's address, `bot@example.com` or `Name <bot@example.com>`; mail from it is skipped. */
    from: z.string().min(3),
    /** The mailbox watched for new mail. */
    mailbox: z.string().min(1).default('INBOX'),
    /** XOAUTH2 (e.g. Gmail) instead of passwords, for both IMAP and SMTP. */
    oauth2: z
      .strictObject({
        user: z.string().min(1),
        clientId: z.string().min(1),
        clientSecret: secretRef,
        refreshToken: secretRef,
        tokenUrl: z.url().default('https://oauth2.googleapis.com/token'),
      })
      .optional(),
    /** First delay before reconnecting IMAP after a drop; doubles up to 5 min. */
    reconnectDelayMs: z.number().int().min(10).default(1000),
    /** TLS for IMAP and SMTP: `ca` trusts a private CA (a PEM file) besides the system's. */
    tls: z
      .strictObject({
        ca: z
          .string({ error: 'a path to a PEM file with the CA certificate(s)' })
          .min(1, 'a path to a PEM file with the CA certificate(s)')
          .refine((p) => !/-----BEGIN/.test(p), {
            message: 'a path to a PEM file, not the certificate text itself',
          }),
      })
      .optional(),
  })
  .optional();

/**
 * The email channel: enabled by `channels.email` in config.yaml whose secret references resolve;
 * otherwise skipped with the reason. imapflow, mailparser and nodemailer load only then.
 */
export const emailChannel: ChannelFactory<'email', typeof emailSettings> = {
  name: 'email',
  settings: emailSettings,
  create: async ({ config, settings: block, log, notifyOwner }) => {
    const { resolveEmailSettings } = await import('./settings.js');
    const settings = resolveEmailSettings(config, block);
    if (!settings) return { skip: 'not configured (no channels.email in config.yaml)' };
    if ('skip' in settings) return { skip: `${settings.skip}; fix: ${settings.fix}` };
    const { EmailChannel } = await import('./adapter.js');
    // `log` already carries `channel: email` (the daemon's child logger).
    return new EmailChannel({ ...settings, notifyOwner }, log);
  },
  check: async (ctx) => {
    const { checkEmail } = await import('./doctor.js');
    return checkEmail(ctx);
  },
};
