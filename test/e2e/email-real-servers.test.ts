import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmailChannel } from '../../src/channels/email/adapter.js';
import { checkChannels } from '../../src/cli/doctor-channels.js';
import { loadConfig } from '../../src/config/load.js';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import {
  MAIL_USERS,
  address,
  realMailUnavailable,
  startRealMailServers,
  type MailboxWatch,
  type RealMailServers,
} from '../support/real-mail-servers.js';
import { reply, scriptedLauncher, type ScriptedLauncher } from '../support/scripted-launcher.js';

// The email channel in a real daemon (default settings) against Debian's Dovecot (IMAPS with
// IDLE, LMTP, Sieve vacation) and Postfix (inbound SMTP, submission with STARTTLS and login),
// both on loopback under a temp dir. Skipped, with the reason in its title, only where the
// servers are not installed; CI installs them (.ci/run).

const why = realMailUnavailable();
const ALICE = `mail:${address('alice')}`;
const BOB = `mail:${address('bob')}`;
const CAROL = `mail:${address('carol')}`;

function emailYaml(s: RealMailServers, opts: { ca?: boolean } = {}): string {
  return (
    `channels:\n  email:\n` +
    `    imap: { host: 127.0.0.1, port: ${s.ports.imaps}, secure: true, user: ${address('bot')}, password: env:EMAIL_IMAP_PASSWORD }\n` +
    `    smtp: { host: 127.0.0.1, port: ${s.ports.submission}, secure: false, password: env:EMAIL_SMTP_PASSWORD }\n` +
    `    from: "Andy <${address('bot')}>"\n` +
    (opts.ca === false ? '' : `    tls: { ca: ${s.caFile} }\n`)
  );
}

function mailHome(
  s: RealMailServers,
  imapPassword: string = MAIL_USERS.bot,
  opts: { ca?: boolean } = {},
): string {
  const home = tempHome(emailYaml(s, opts));
  writeFileSync(
    join(home, '.env'),
    `EMAIL_IMAP_PASSWORD=${imapPassword}\nEMAIL_SMTP_PASSWORD=${MAIL_USERS.bot}\n`,
  );
  return home;
}

describe.skipIf(why !== null)(
  why
    ? `email against real Dovecot and Postfix (skipped: ${why})`
    : 'email against real Dovecot and Postfix',
  () => {
    let servers: RealMailServers;
    let d: Daemon;
    let home: string;
    let runner: ScriptedLauncher;
    const watches: MailboxWatch[] = [];
    const watch = async (u: 'alice' | 'bob' | 'carol' | 'bot') => {
      const w = await servers.watch(u);
      watches.push(w);
      return w;
    };

    beforeAll(async () => {
      servers = await startRealMailServers();
      home = mailHome(servers);
      runner = scriptedLauncher(({ prompt }) => reply(`answer ${prompt.length}`));
      d = await startDaemon(home, [runner]);
      // Two senders (and carol, who is away) in one group that needs no trigger word.
      d.groups.add({ name: 'team', chats: [ALICE, BOB, CAROL], requiresTrigger: false });
    });
    afterAll(async () => {
      for (const w of watches) await w.close();
      await d?.stop();
      await servers?.stop();
    });

    it('connects over IMAPS with the configured CA and says so in status', () => {
      const ch = d.status().channels.find((c) => c.name === 'email');
      expect(ch, servers.logs()).toMatchObject({ connected: true, lastError: null });
    });

    it('round trip: a mail is answered by a reply threaded to it, marked automatic', async () => {
      const inbox = await watch('alice');
      const got = inbox.next();
      await servers.send({
        from: 'alice',
        to: 'bot',
        subject: 'Quarterly numbers',
        text: 'Can you sum them up?',
        messageId: '<q1@alice.test>',
      });
      const answer = await got;
      expect(answer.from?.value[0]?.address).toBe(address('bot'));
      expect(answer).toMatchObject({
        subject: 'Re: Quarterly numbers',
        inReplyTo: '<q1@alice.test>',
        references: '<q1@alice.test>',
      });
      expect(answer.headers.get('auto-submitted')).toBe('auto-replied');
      expect(answer.text).toMatch(/^answer \d+/);
      expect(runner.inputs.at(-1)!.prompt).toContain('Can you sum them up?');
    });

    it('two senders in one group each get their own threaded reply', async () => {
      const [a, b] = [await watch('alice'), await watch('bob')];
      const [ga, gb] = [a.next(), b.next()];
      await servers.send({
        from: 'alice',
        to: 'bot',
        subject: 'from alice',
        text: 'a?',
        messageId: '<a2@alice.test>',
      });
      await servers.send({
        from: 'bob',
        to: 'bot',
        subject: 'from bob',
        text: 'b?',
        messageId: '<b2@bob.test>',
      });
      const [ra, rb] = [await ga, await gb];
      expect(ra).toMatchObject({ subject: 'Re: from alice', inReplyTo: '<a2@alice.test>' });
      expect(rb).toMatchObject({ subject: 'Re: from bob', inReplyTo: '<b2@bob.test>' });
    });

    it('replies queued for two mails thread each to its own mail (replyTo)', async () => {
      // The run path does not set replyTo yet: outbox rows name the two earlier mails of alice.
      const stored = d.store.messages
        .listChat(ALICE, 0)
        .filter((m) => m.direction === 'in')
        .map((m) => m.platformId);
      expect(stored).toEqual(expect.arrayContaining(['<q1@alice.test>', '<a2@alice.test>']));
      const inbox = await watch('alice');
      const first = inbox.next();
      d.outbox.enqueue({
        key: 'rt:1',
        chatId: ALICE,
        text: 'late answer one',
        replyTo: '<q1@alice.test>',
      });
      d.outbox.kick();
      const one = await first;
      const second = inbox.next();
      d.outbox.enqueue({
        key: 'rt:2',
        chatId: ALICE,
        text: 'late answer two',
        replyTo: '<a2@alice.test>',
      });
      d.outbox.kick();
      const two = await second;
      expect(one).toMatchObject({ subject: 'Re: Quarterly numbers', inReplyTo: '<q1@alice.test>' });
      expect(two).toMatchObject({ subject: 'Re: from alice', inReplyTo: '<a2@alice.test>' });
    });

    it('a real Sieve vacation reply is stored as context and not answered', async () => {
      const runs = runner.inputs.length;
      const carol = await watch('carol');
      const vacation = nextMessage(d, (m) => m.chatId === CAROL && m.direction === 'in');
      // The owner writes to carol from the bot's address; her vacation answers the bot.
      await servers.send({ from: 'bot', to: 'carol', subject: 'lunch?', text: 'Tuesday?' });
      const stored = await vacation;
      expect(stored.text).toContain('Carol is away until Monday.');
      expect(stored.text).toContain('automatic="Auto-Submitted: auto-replied (vacation)"');
      expect(stored.mentioned).toBe(false);
      // The next real mail (alice's own conversation) runs once, without carol's auto-reply,
      // which stays context of carol's chat; carol gets nothing.
      const a = await watch('alice');
      const got = a.next();
      await servers.send({ from: 'alice', to: 'bot', subject: 'after', text: 'still there?' });
      await got;
      expect(runner.inputs.length).toBe(runs + 1);
      expect(runner.inputs.at(-1)!.prompt).not.toContain('Carol is away until Monday.');
      expect(d.store.messages.pendingForChat(CAROL).map((m) => m.wakes)).toEqual([false]);
      const carolMail = await carol.all();
      expect(carolMail.map((m) => m.subject)).toEqual(['lunch?']);
    });

    it('restart: mail that came while down is answered once, nothing earlier again', async () => {
      const runs = runner.inputs.length;
      await d.stop();
      await servers.send({
        from: 'bob',
        to: 'bot',
        subject: 'while down',
        text: 'hello?',
        messageId: '<b3@bob.test>',
      });
      const b = await watch('bob');
      const got = b.next();
      d = await startDaemon(home, [runner]);
      expect(await got).toMatchObject({ subject: 'Re: while down', inReplyTo: '<b3@bob.test>' });
      expect(runner.inputs.length).toBe(runs + 1);
    });

    it('a wrong password: the server words are shown, tries stop, the owner is told', async () => {
      const other = mailHome(servers, 'not-the-password');
      const d2 = await startDaemon(other, []);
      try {
        const channel = d2.channels.forChat(ALICE) as EmailChannel;
        await vi.waitFor(() => expect(channel.connection.name).toBe('failed'), {
          timeout: 20_000,
          interval: 100,
        });
        const status = d2.status().channels.find((c) => c.name === 'email')!;
        expect(status.connected).toBe(false);
        expect(status.lastError).toContain('[AUTHENTICATIONFAILED] Authentication failed.');
        expect(status.lastError).not.toContain('not-the-password');
        const notice = d2.store.messages
          .listChat('web:main', 0)
          .find((m) => m.text.includes('refused the login'));
        expect(notice?.text).toContain('[AUTHENTICATIONFAILED]');
      } finally {
        await d2.stop();
      }
    });

    it('doctor: logs in with the CA; names the untrusted certificate and the refused password', async () => {
      const check = (h: string) =>
        checkChannels(loadConfig({ CLAWPOD_HOME: h }), { timeoutMs: 15_000 });
      const good = await check(mailHome(servers));
      expect(
        good.map((r) => r.level),
        JSON.stringify(good),
      ).toEqual(['ok', 'ok']);
      const noCa = await check(mailHome(servers, MAIL_USERS.bot, { ca: false }));
      for (const r of noCa) {
        expect(r).toMatchObject({
          level: 'fail',
          title: expect.stringContaining('self-signed certificate'),
        });
        expect(r.fix).toContain('channels.email.tls.ca');
      }
      const [wrong] = await check(mailHome(servers, 'not-the-password'));
      expect(wrong).toMatchObject({
        level: 'fail',
        title: expect.stringContaining(
          'login refused: [AUTHENTICATIONFAILED] Authentication failed.',
        ),
      });
    });
  },
);
