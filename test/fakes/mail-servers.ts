import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

interface HoodiecrowServer {
  server: Server;
  listen(port: number, host: string, cb: () => void): void;
  close(cb: () => void): void;
  appendMessage(
    mailbox: string,
    flags: string[],
    internaldate: string | Date,
    raw: string,
  ): unknown;
  getMailbox(path: string): { uidvalidity: number };
}

const hoodiecrow = createRequire(import.meta.url)('hoodiecrow-imap') as (
  opts: Record<string, unknown>,
) => HoodiecrowServer;

/** An in-process IMAP server (hoodiecrow, IDLE on) on 127.0.0.1 and a random port. */
export interface FakeImap {
  port: number;
  /** Delivers a raw RFC 5322 message into INBOX (announced to IDLE clients). */
  deliver(raw: string, receivedAt?: Date): void;
  /** Cuts every open client connection (the server keeps listening). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** A stored mail: its raw text, and when the server received it (default: now). */
export type FakeStoredMail = string | { raw: string; internaldate: Date };

export async function startFakeImap(
  opts: { uidValidity?: number; messages?: FakeStoredMail[] } = {},
): Promise<FakeImap> {
  const inbox = {
    messages: (opts.messages ?? []).map((m) => (typeof m === 'string' ? { raw: m } : m)),
    ...(opts.uidValidity ? { uidvalidity: opts.uidValidity } : {}),
  };
  const srv = hoodiecrow({ plugins: ['IDLE'], storage: { INBOX: inbox, '': {} } });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.server.address() as { port: number };
  const sockets = new Set<import('node:net').Socket>();
  srv.server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    port,
    deliver: (raw, receivedAt = new Date()) => void srv.appendMessage('INBOX', [], receivedAt, raw),
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/** A local SMTP server capturing every mail it accepts (no auth, no TLS). */
export interface FakeSmtp {
  port: number;
  received: ParsedMail[];
  /** Resolves with the next captured mail. */
  next(): Promise<ParsedMail>;
  close(): Promise<void>;
}

/**
 * `auth`: AUTH PLAIN/LOGIN is offered (without TLS) and only this user and password pass; others
 * get `535 5.7.8 Error: authentication failed`. Without it, no AUTH.
 */
export async function startFakeSmtp(
  opts: { auth?: { user: string; pass: string } } = {},
): Promise<FakeSmtp> {
  const received: ParsedMail[] = [];
  const waiters: ((m: ParsedMail) => void)[] = [];
  const want = opts.auth;
  const server = new SMTPServer({
    authOptional: !want,
    allowInsecureAuth: true,
    disabledCommands: want ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    onAuth(auth, _session, cb) {
      if (want && auth.username === want.user && auth.password === want.pass)
        return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Error: authentication failed'), { responseCode: 535 }));
    },
    logger: false,
    onData(stream, _session, cb) {
      simpleParser(stream)
        .then((m) => {
          received.push(m);
          waiters.shift()?.(m);
          cb();
        })
        .catch((err: Error) => cb(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    port,
    received,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A plain-text mail, optionally with one attachment (base64). */
export function rawMail(opts: {
  from: string;
  messageId: string;
  subject: string;
  body: string;
  attachment?: { name: string; mime: string; data: Buffer };
}): string {
  const head = [
    `From: ${opts.from}`,
    'To: Andy <bot@example.com>',
    `Subject: ${opts.subject}`,
    `Message-ID: ${opts.messageId}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
  ];
  if (!opts.attachment)
    return [...head, 'Content-Type: text/plain; charset=utf-8', '', opts.body, ''].join('\r\n');
  const a = opts.attachment;
  return [
    ...head,
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body,
    '--b1',
    `Content-Type: ${a.mime}; name="${a.name}"`,
    `Content-Disposition: attachment; filename="${a.name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    a.data.toString('base64'),
    '--b1--',
    '',
  ].join('\r\n');
}
