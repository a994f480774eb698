import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  rawMail,
  startFakeImap,
  startFakeSmtp,
  type FakeImap,
  type FakeSmtp,
} from '../fakes/mail-servers.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher, type ScriptedLauncher } from '../support/scripted-launcher.js';

const ALICE = 'mail:alice@example.com';

const emailYaml = (imapPort: number, smtpPort: number) =>
  `attachments: { maxBytes: 4096 }\nchannels:\n  email:\n` +
  `    imap: { host: 127.0.0.1, port: ${imapPort}, secure: false, user: testuser, password: env:IMAP_PASSWORD }\n` +
  `    smtp: { host: 127.0.0.1, port: ${smtpPort}, secure: false }\n` +
  `    from: "Andy <bot@example.com>"\n`;
const aliceMail = (n: number) =>
  rawMail({
    from: 'alice@example.com',
    messageId: `<m${n}@example.com>`,
    subject: `mail ${n}`,
    body: `body ${n}`,
  });

describe('Email channel in a running daemon', () => {
  let imap: FakeImap;
  let smtp: FakeSmtp;
  let d: Daemon;
  let runner: ScriptedLauncher;
  let home: string;

  beforeAll(async () => {
    imap = await startFakeImap();
    smtp = await startFakeSmtp();
    home = tempHome(emailYaml(imap.port, smtp.port));
    writeFileSync(join(home, '.env'), 'IMAP_PASSWORD=testpass\n');
    runner = scriptedLauncher(() => reply('Here is my answer'));
    d = await startDaemon(home, [runner]);
    d.groups.add({ name: 'team', chats: [ALICE] });
  });
  afterAll(async () => {
    await d.stop();
    await imap.close();
    await smtp.close();
  });

  it('answers a mail by a threaded reply to the sender and saves its attachment', async () => {
    expect(d.channels.forChat(ALICE)?.health().connected).toBe(true);
    const sent = smtp.next();
    imap.deliver(
      rawMail({
        from: 'Alice <Alice@Example.com>',
        messageId: '<m1@example.com>',
        subject: 'Status <please>',
        body: 'What is up & running?',
        attachment: { name: 'notes.txt', mime: 'text/plain', data: Buffer.from('hello file') },
      }),
    );
    const mail = await sent;
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]!.address : '').toBe(
      'alice@example.com',
    );
    expect(mail.inReplyTo).toBe('<m1@example.com>');
    expect(mail.subject).toBe('Re: Status <please>');
    expect(mail.text?.trim()).toBe('Here is my answer');
    expect(runner.inputs).toHaveLength(1);
    const prompt = runner.inputs[0]!.prompt;
    expect(prompt).toContain('untrusted_email');
    // The body is escaped inside the wrapper, and the prompt escapes the whole text again.
    expect(prompt).toContain('&lt;untrusted_email from=&quot;alice@example.com&quot;');
    expect(prompt).toContain('What is up &amp;amp; running?');
    const stored = d.store.messages.listChat(ALICE, 0).find((m) => m.direction === 'in')!;
    expect(stored).toMatchObject({
      sender: ALICE,
      platformId: '<m1@example.com>',
      mentioned: true,
    });
    const path = /\/workspace\/group\/(attachments\/[^ ]+) \(text\/plain, 10 bytes\)/.exec(
      stored.text,
    )?.[1];
    expect(path).toBeDefined();
    expect(readFileSync(join(home, 'groups', 'team', path!), 'utf8')).toBe('hello file');
  });

  it('stores mail from an unbound sender for discovery and starts no run', async () => {
    const before = runner.inputs.length;
    const stored = nextMessage(d, (m) => m.chatId === 'mail:bob@example.com');
    imap.deliver(
      rawMail({
        from: 'bob@example.com',
        messageId: '<b1@example.com>',
        subject: 'hi',
        body: 'run something',
      }),
    );
    await stored;
    expect(d.store.chats.list().find((c) => c.jid === 'mail:bob@example.com')).toMatchObject({
      kind: 'direct',
      group: null,
    });
    // A later mail from a bound sender runs alone: nothing was queued for bob.
    const sent = smtp.next();
    imap.deliver(
      rawMail({
        from: 'alice@example.com',
        messageId: '<m2@example.com>',
        subject: 'again',
        body: 'ping',
      }),
    );
    const mail = await sent;
    expect(mail.inReplyTo).toBe('<m2@example.com>');
    expect(runner.inputs.length).toBe(before + 1);
    expect(smtp.received.every((m) => !JSON.stringify(m.to).includes('bob@'))).toBe(true);
  });

  it('reconnects after the IMAP connection drops and reads the mail that came meanwhile', async () => {
    const runs = runner.inputs.length;
    const channel = d.channels.forChat(ALICE)!;
    imap.dropConnections();
    await vi.waitFor(() => expect(channel.health().connected).toBe(false));
    const sent = smtp.next();
    imap.deliver(aliceMail(20));
    expect((await sent).inReplyTo).toBe('<m20@example.com>');
    expect(channel.health().connected).toBe(true);
    expect(runner.inputs.length).toBe(runs + 1);
  });

  it('after a restart processes no mail twice and picks up mail that came while down', async () => {
    const runs = runner.inputs.length;
    const stored = d.store.messages.listChat(ALICE, 0).length;
    await d.stop();
    imap.deliver(
      rawMail({
        from: 'alice@example.com',
        messageId: '<m3@example.com>',
        subject: 'while down',
        body: 'later',
      }),
    );
    const sent = smtp.next();
    d = await startDaemon(home, [runner]);
    const mail = await sent;
    expect(mail.inReplyTo).toBe('<m3@example.com>');
    expect(runner.inputs.length).toBe(runs + 1);
    // Only the new mail and its reply were added.
    expect(d.store.messages.listChat(ALICE, 0).length).toBe(stored + 2);
    expect(existsSync(join(home, 'channels', 'email', 'state.json'))).toBe(true);
  });

  it('a UIDVALIDITY change re-scans recent mail: old mail is not run again, new mail is', async () => {
    const runs = runner.inputs.length;
    await d.stop();
    await imap.close();
    // The server renumbered the mailbox: the same mails under new UIDs, plus one new mail.
    imap = await startFakeImap({
      uidValidity: 777,
      messages: [aliceMail(1), aliceMail(2), aliceMail(3), aliceMail(4)],
    });
    const base = readFileSync(join(home, 'config.yaml'), 'utf8').split('attachments:')[0]!;
    writeFileSync(join(home, 'config.yaml'), base + emailYaml(imap.port, smtp.port));
    const sent = smtp.next();
    d = await startDaemon(home, [runner]);
    const mail = await sent;
    expect(mail.inReplyTo).toBe('<m4@example.com>');
    expect(runner.inputs.length).toBe(runs + 1);
    const state = JSON.parse(readFileSync(join(home, 'channels', 'email', 'state.json'), 'utf8'));
    expect(state.mailboxes.INBOX).toMatchObject({ uidValidity: '777', lastUid: 4 });
  });

  it('is skipped with a reason when its password variable is not set', async () => {
    const other = tempHome(emailYaml(imap.port, smtp.port));
    const d2 = await startDaemon(other, []);
    try {
      expect(d2.channels.forChat(ALICE)).toBeUndefined();
    } finally {
      await d2.stop();
    }
  });
});
