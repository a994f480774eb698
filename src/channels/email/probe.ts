import { ImapFlow } from 'imapflow';
import type { EmailSettings } from './adapter.js';
import { imapFailure, type MailFailure } from './errors.js';
import { fetchAccessToken } from './oauth.js';
import { bareAddress } from './inbound.js';
import { Mailer } from './outbound.js';

/** What `clawpod doctor` found: null where the login worked, else the failure. */
export interface EmailProbe {
  imap: MailFailure | null;
  smtp: MailFailure | null;
}

/** Rejects with a network-kind error after `ms` (doctor must never hang on a silent server). */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Logs in to IMAP (and opens the mailbox) and to SMTP, sends nothing, and logs out: the live
 * check behind `clawpod doctor`. Failures carry the server's words and a fix.
 */
export async function probeEmail(s: EmailSettings, timeoutMs = 15_000): Promise<EmailProbe> {
  const secrets = [s.imap.password, s.oauth2?.clientSecret, s.oauth2?.refreshToken];
  let imap: MailFailure | null = null;
  let client: ImapFlow | undefined;
  try {
    await deadline(
      (async () => {
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
        });
        client.on('error', () => undefined);
        await client.connect();
        await client.mailboxOpen(s.mailbox, { readOnly: true });
        await client.logout();
      })(),
      timeoutMs,
      'IMAP login',
    );
  } catch (err) {
    imap = imapFailure(err, secrets);
    (client as ImapFlow | undefined)?.close();
  }
  const mailer = new Mailer(s.smtp, s.from, bareAddress(s.from));
  let smtp: MailFailure | null;
  try {
    smtp = await deadline(mailer.verify(), timeoutMs, 'SMTP login');
  } catch (err) {
    smtp = {
      kind: 'network',
      reason: (err as Error).message,
      fix: 'check channels.email.smtp.host and port',
    };
  } finally {
    mailer.close();
  }
  return { imap, smtp };
}
