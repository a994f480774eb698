import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmailChannel } from '../../src/channels/email/adapter.js';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import {
  rawMail,
  startFakeImap,
  startFakeSmtp,
  type FakeImap,
  type FakeSmtp,
} from '../fakes/mail-servers.js';
import { closedPort } from '../cli/cli-helpers.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher, type ScriptedLauncher } from '../support/scripted-launcher.js';

// The email channel against in-process IMAP/SMTP servers, at the default settings: threading by
// `replyTo`, automatic mail, refused logins, and what the first start skipped.

const ALICE = 'mail:alice@example.com';
const BOB = 'mail:bob@example.com';

const emailYaml = (imapPort: number, smtpPort: number, smtpAuth = false) =>
  `channels:\n  email:\n` +
  `    imap: { host: 127.0.0.1, port: ${imapPort}, secure: false, user: testuser, password: env:IMAP_PASSWORD }\n` +
  `    smtp: { host: 127.0.0.1, port: ${smtpPort}, secure: false${smtpAuth ? ', user: bot, password: env:SMTP_PASSWORD' : ''} }\n` +
  `    from: "Andy <bot@example.com>"\n`;

function home(imap: FakeImap, smtp: FakeSmtp, env: string, smtpAuth = false): string {
  const h = tempHome(emailYaml(imap.port, smtp.port, smtpAuth));
  writeFileSync(join(h, '.env'), env);
  return h;
}

const mail = (from: string, id: string, subject: string, body = 'hello', extra: string[] = []) =>
  rawMail({ from, messageId: id, subject, body }).replace(
    'MIME-Version: 1.0',
    [...extra, 'MIME-Version: 1.0'].join('\r\n'),
  );

describe('Email: threading and automatic mail', () => {
  let imap: FakeImap;
  let smtp: FakeSmtp;
  let d: Daemon;
  let runner: ScriptedLauncher;

  beforeAll(async () => {
    imap = await startFakeImap();
    smtp = await startFakeSmtp();
    runner = scriptedLauncher(() => reply('answer'));
    d = await startDaemon(home(imap, smtp, 'IMAP_PASSWORD=testpass\n'), [runner]);
    // Two senders in one group that needs no trigger: the strictest case for loops.
    d.groups.add({ name: 'team', chats: [ALICE, BOB], requiresTrigger: false });
  });
  afterAll(async () => {
    await d.stop();
    await imap.close();
    await smtp.close();
  });

  it('is named email in status, as in config and logs', () => {
    expect(d.status().channels.map((c) => c.name)).toContain('email');
  });

  it('threads each reply to the mail its replyTo names, not to the newest mail', async () => {
    // carol is bound to no group: her mails are stored, no run answers them.
    const stored = nextMessage(d, (m) => m.platformId === '<c2@example.com>');
    imap.deliver(mail('carol@example.com', '<c1@example.com>', 'first question'));
    imap.deliver(
      mail('carol@example.com', '<c2@example.com>', 'second question', 'x', [
        'References: <c0@example.com>',
      ]),
    );
    await stored;
    const first = smtp.next();
    d.outbox.enqueue({
      key: 't1',
      chatId: 'mail:carol@example.com',
      text: 'to the first',
      replyTo: '<c1@example.com>',
    });
    d.outbox.kick();
    const a = await first;
    const second = smtp.next();
    d.outbox.enqueue({
      key: 't2',
      chatId: 'mail:carol@example.com',
      text: 'to the second',
      replyTo: '<c2@example.com>',
    });
    d.outbox.kick();
    const b = await second;
    expect(a).toMatchObject({
      subject: 'Re: first question',
      inReplyTo: '<c1@example.com>',
      references: '<c1@example.com>',
    });
    expect(b).toMatchObject({
      subject: 'Re: second question',
      inReplyTo: '<c2@example.com>',
      references: ['<c0@example.com>', '<c2@example.com>'],
    });
    // Every reply says it is automatic (RFC 3834), so vacation responders stay quiet.
    expect(a.headers.get('auto-submitted')).toBe('auto-replied');
  });

  it('two quick mails from one sender get two replies, each threaded to its own mail', async () => {
    const before = runner.inputs.length;
    const first = smtp.next();
    const second = smtp.next();
    imap.deliver(mail('bob@example.com', '<q1@example.com>', 'invoice', 'where is it?'));
    imap.deliver(mail('bob@example.com', '<q2@example.com>', 'holiday', 'am I off friday?'));
    const [a, b] = [await first, await second];
    expect([a.inReplyTo, a.subject]).toEqual(['<q1@example.com>', 'Re: invoice']);
    expect([b.inReplyTo, b.subject]).toEqual(['<q2@example.com>', 'Re: holiday']);
    // One turn per mail, in order; the session remembers the first when it answers the second.
    const [p1, p2] = runner.inputs.slice(before).map((i) => i.prompt);
    expect(p1).toContain('where is it?');
    expect(p1).not.toContain('am I off friday?');
    expect(p2).toContain('am I off friday?');
  });

  it('keeps an auto-reply as context: it starts no run, the next real mail sees it', async () => {
    const before = runner.inputs.length;
    const vacation = nextMessage(d, (m) => m.platformId === '<v1@example.com>');
    imap.deliver(
      mail('alice@example.com', '<v1@example.com>', 'Out of office', 'Alice is away', [
        'Auto-Submitted: auto-replied (vacation)',
      ]),
    );
    expect((await vacation).mentioned).toBe(false);
    expect(runner.inputs.length).toBe(before); // no run for the auto-reply
    // Alice's next real mail sees it as context; the reply threads to the real mail.
    const sent = smtp.next();
    imap.deliver(mail('alice@example.com', '<a8@example.com>', 'back', 'what now'));
    const answer = await sent;
    expect(answer.inReplyTo).toBe('<a8@example.com>');
    expect(runner.inputs.length).toBe(before + 1);
    const prompt = runner.inputs[before]!.prompt;
    expect(prompt).toContain('Alice is away');
    expect(prompt).toContain('what now');
  });

  it('keeps mailing-list and bounce mail as context too', async () => {
    const before = runner.inputs.length;
    const list = nextMessage(d, (m) => m.platformId === '<l1@example.com>');
    imap.deliver(
      mail('alice@example.com', '<l1@example.com>', '[team] digest', 'digest', [
        'List-Id: <team.lists.example.com>',
      ]),
    );
    await list;
    const bounce = nextMessage(d, (m) => m.platformId === '<n1@example.com>');
    imap.deliver(
      mail('bob@example.com', '<n1@example.com>', 'Undelivered', 'bounce', ['Return-Path: <>']),
    );
    await bounce;
    const sent = smtp.next();
    imap.deliver(mail('alice@example.com', '<a9@example.com>', 'ping', 'ping'));
    expect((await sent).inReplyTo).toBe('<a9@example.com>');
    expect(runner.inputs.length).toBe(before + 1);
  });
});

describe('Email: refused logins', () => {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });

  it('a wrong IMAP password: the server reason is kept, tries stop after 3, the owner is told', async () => {
    const imap = await startFakeImap();
    const smtp = await startFakeSmtp();
    const d = await startDaemon(home(imap, smtp, 'IMAP_PASSWORD=wrong\n'), []);
    open.push(
      () => imap.close(),
      () => smtp.close(),
      () => d.stop(),
    );
    const channel = d.channels.forChat(ALICE) as EmailChannel;
    await vi.waitFor(() => expect(channel.connection.name).toBe('failed'), {
      timeout: 15_000,
      interval: 100,
    });
    const status = d.status().channels.find((c) => c.name === 'email')!;
    expect(status.connected).toBe(false);
    expect(status.lastError).toContain('Login failed: authentication failure');
    expect(status.lastError).toContain('stopped after 3 attempts');
    expect(status.lastError).not.toContain('wrong');
    const notice = d.store.messages
      .listChat('web:main', 0)
      .find((m) => m.text.includes('refused the login'));
    expect(notice?.text).toContain('channels.email.imap.user');
  });

  it('a refused SMTP login marks the channel unhealthy and the reply waits to be retried', async () => {
    const imap = await startFakeImap();
    const smtp = await startFakeSmtp({ auth: { user: 'bot', pass: 'right' } });
    const runner = scriptedLauncher(() => reply('answer'));
    const d = await startDaemon(
      home(imap, smtp, 'IMAP_PASSWORD=testpass\nSMTP_PASSWORD=wrong-smtp\n', true),
      [runner],
    );
    open.push(
      () => imap.close(),
      () => smtp.close(),
      () => d.stop(),
    );
    d.groups.add({ name: 'team', chats: [ALICE] });
    imap.deliver(mail('alice@example.com', '<s1@example.com>', 'hi'));
    const channel = d.channels.forChat(ALICE)!;
    await vi.waitFor(() => expect(channel.health().lastError).toContain('535'), {
      timeout: 15_000,
      interval: 50,
    });
    expect(channel.health().connected).toBe(false);
    expect(channel.health().lastError).toContain('535');
    expect(channel.health().lastError).toContain('authentication failed');
    expect(channel.health().lastError).not.toContain('wrong-smtp');
    expect(d.store.outbox.countByStatus().dead).toBe(0);
    expect(d.store.deadLetters.count()).toBe(0);
  });
});

describe('Email: what the first start skipped stays skipped', () => {
  it('a UIDVALIDITY re-scan runs neither old mail nor a mail without Message-ID again', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const old = mail('alice@example.com', '<old@example.com>', 'before clawpod', 'old news');
    let imap = await startFakeImap({ messages: [{ raw: old, internaldate: hourAgo }] });
    const smtp = await startFakeSmtp();
    const runner = scriptedLauncher(() => reply('answer'));
    const h = home(imap, smtp, 'IMAP_PASSWORD=testpass\n');
    let d = await startDaemon(h, [runner]);
    d.groups.add({ name: 'team', chats: [ALICE], requiresTrigger: false });
    // A mail without Message-ID, answered once.
    const noId = rawMail({ from: 'alice@example.com', messageId: 'X', subject: 'no id', body: 'n' })
      .split('\r\n')
      .filter((l) => !l.startsWith('Message-ID'))
      .join('\r\n');
    const at = new Date();
    const first = smtp.next();
    imap.deliver(noId, at);
    await first;
    expect(runner.inputs).toHaveLength(1);
    await d.stop();
    await imap.close();

    // The server renumbered the mailbox: both old mails under new UIDs, plus one new mail.
    imap = await startFakeImap({
      uidValidity: 4242,
      messages: [
        { raw: old, internaldate: hourAgo },
        { raw: noId, internaldate: at },
        { raw: mail('alice@example.com', '<new@example.com>', 'new'), internaldate: new Date() },
      ],
    });
    writeFileSync(join(h, 'config.yaml'), `http: { port: 0 }\n${emailYaml(imap.port, smtp.port)}`);
    const sent = smtp.next();
    d = await startDaemon(h, [runner]);
    try {
      expect((await sent).inReplyTo).toBe('<new@example.com>');
      expect(runner.inputs).toHaveLength(2);
      const ids = d.store.messages
        .listChat(ALICE, 0)
        .filter((m) => m.direction === 'in')
        .map((m) => m.platformId);
      expect(ids).not.toContain('<old@example.com>');
      expect(ids.filter((i) => i.endsWith('@clawpod.invalid>'))).toHaveLength(1);
    } finally {
      await d.stop();
      await imap.close();
      await smtp.close();
    }
  });
});

describe('Email: what the log says', () => {
  it('names the channel once per line and never claims a connection IMAP did not make', async () => {
    const smtp = await startFakeSmtp();
    const port = await closedPort();
    const h = tempHome(emailYaml(port, smtp.port));
    writeFileSync(join(h, '.env'), 'IMAP_PASSWORD=testpass\n');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const d = new Daemon({
      config: loadConfig({ CLAWPOD_HOME: h, PATH: process.env.PATH }),
      log: pino({ level: 'info' }, sink),
      launchers: [],
    });
    await d.start();
    try {
      const email = lines.filter((l) => l.includes('"channel":"email"'));
      expect(email.length).toBeGreaterThan(0);
      for (const l of email) expect(l.match(/"channel":/g), l).toHaveLength(1);
      expect(email.some((l) => l.includes('"msg":"channel connected"'))).toBe(false);
      const started = lines.find((l) => l.includes('channel started but not connected'));
      expect(started).toContain('ECONNREFUSED');
    } finally {
      await d.stop();
      await smtp.close();
    }
  });
});
