import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Inbound } from '../../src/channels/channel.js';
import { TelegramChannel } from '../../src/channels/telegram/adapter.js';
import type { Daemon } from '../../src/daemon.js';
import { Store } from '../../src/store/store.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { nextMessage, runEnded, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher, type ScriptedLauncher } from '../support/scripted-launcher.js';

const GROUP = -1001234567890;
const alice = { id: 4242, is_bot: false as const, first_name: 'Alice' };
const supergroup = (id: number, title = 'Team') => ({ id, type: 'supergroup' as const, title });
const privateChat = { id: 4242, type: 'private' as const, first_name: 'Alice' };
const isReply = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

function telegramHome(fake: FakeTelegram, extra = ''): string {
  const home = tempHome(
    `attachments: { maxBytes: 4096 }\nchannels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN, apiRoot: "${fake.apiRoot}"${extra} }\n`,
  );
  writeFileSync(join(home, '.env'), `TELEGRAM_BOT_TOKEN=${fake.token}\n`);
  return home;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('Telegram channel in a running daemon', () => {
  let fake: FakeTelegram;
  let d: Daemon;
  let runner: ScriptedLauncher;
  let home: string;
  /** What the scripted agent answers; tests swap it. */
  let respond: (prompt: string) => string | Promise<string> = () => 'ok';

  beforeAll(async () => {
    fake = await startFakeTelegram();
    home = telegramHome(fake);
    runner = scriptedLauncher(async ({ prompt }) => reply(await respond(prompt)));
    d = await startDaemon(home, [runner]);
    d.groups.add({ name: 'team', chats: [`tg:${GROUP}`] });
  });
  afterAll(async () => {
    await d.stop();
    await fake.close();
  });
  afterEach(() => {
    respond = () => 'ok';
    fake.rejectFormatting = false;
  });

  const sentTo = (chatId: number) => fake.sent.filter((s) => s.chatId === chatId);

  it('answers a triggered group message in that chat, typing while the run is active', async () => {
    respond = async () => {
      await fake.waitForCall((c) => c.method === 'sendChatAction' && c.params.chat_id === GROUP);
      return 'All **good** here';
    };
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    const ended = runEnded(d);
    const m = fake.pushMessage({ chat: supergroup(GROUP), from: alice, text: '@Andy what is up?' });
    await out;
    await ended;
    expect((d.channels.forChat(`tg:${GROUP}`) as TelegramChannel).isTyping(`tg:${GROUP}`)).toBe(
      false,
    );
    const [sent] = sentTo(GROUP);
    expect(sent).toMatchObject({
      text: 'All <b>good</b> here',
      parseMode: 'HTML',
      visible: 'All good here',
    });
    expect(runner.inputs.at(-1)!.prompt).toContain('@Andy what is up?');
    const typing = fake.calls.find((c) => c.method === 'sendChatAction')!;
    expect(typing.params).toMatchObject({ chat_id: GROUP, action: 'typing' });
    const stored = d.store.messages
      .listChat(`tg:${GROUP}`, 0)
      .find((x) => x.platformId === String(m.message_id))!;
    expect(stored).toMatchObject({ sender: 'tg:4242', senderName: 'Alice', direction: 'in' });
  });

  it('quotes the message it answers only when the group asks for it (threadReplies)', async () => {
    let out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), from: alice, text: '@Andy plain please' });
    await out;
    expect(sentTo(GROUP).at(-1)!.replyTo).toBeUndefined();
    d.groups.update('team', { threadReplies: true });
    out = nextMessage(d, isReply(`tg:${GROUP}`));
    const asked = fake.pushMessage({
      chat: supergroup(GROUP),
      from: alice,
      text: '@Andy quote me',
    });
    await out;
    expect(sentTo(GROUP).at(-1)!.replyTo).toBe(asked.message_id);
    d.groups.update('team', { threadReplies: false });
  });

  it('the bot @username counts as the trigger', async () => {
    const before = runner.inputs.length;
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: `@${fake.bot.username} status please` });
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(d.store.messages.listChat(`tg:${GROUP}`, 0).at(-2)!.mentioned).toBe(true);
  });

  it('an untriggered message is stored as context and starts no run', async () => {
    const before = runner.inputs.length;
    const stored = nextMessage(d, (m) => m.text === 'just chatting, no bot');
    fake.pushMessage({ chat: supergroup(GROUP), text: 'just chatting, no bot' });
    await stored;
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy summarise' });
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(runner.inputs.at(-1)!.prompt).toContain('just chatting, no bot');
  });

  it('ignores edits by rule: the stored original stands', async () => {
    const original = fake.pushMessage({ chat: supergroup(GROUP), text: 'edit me later' });
    await nextMessage(d, (m) => m.text === 'edit me later');
    fake.pushUpdate({
      edited_message: { ...original, text: '@Andy edited text', edit_date: original.date + 5 },
    } as never);
    const after = nextMessage(d, (m) => m.text === 'after the edit');
    fake.pushMessage({ chat: supergroup(GROUP), text: 'after the edit' });
    await after;
    const texts = d.store.messages.listChat(`tg:${GROUP}`, 0).map((m) => m.text);
    expect(texts).toContain('edit me later');
    expect(texts).not.toContain('@Andy edited text');
  });

  it('sender allowlists take tg:<user id>', async () => {
    d.groups.add({
      name: 'vip',
      chats: ['tg:-100888'],
      senders: { allow: ['tg:4242'], others: 'store' },
    });
    const before = runner.inputs.length;
    const kept = nextMessage(d, (m) => m.text === '@Andy let me in');
    fake.pushMessage({
      chat: supergroup(-100888),
      from: { id: 77, is_bot: false, first_name: 'Bob' },
      text: '@Andy let me in',
    });
    await kept;
    const out = nextMessage(d, isReply('tg:-100888'));
    fake.pushMessage({ chat: supergroup(-100888), from: alice, text: '@Andy hello' });
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(runner.inputs.at(-1)!.prompt).not.toContain('let me in');
  });

  it('replies into the forum topic the message came from', async () => {
    d.groups.add({ name: 'ops', chats: ['tg:-100777/55'] });
    const out = nextMessage(d, isReply('tg:-100777/55'));
    fake.pushMessage({
      chat: { ...supergroup(-100777, 'Ops'), is_forum: true },
      text: '@Andy deploy status?',
      message_thread_id: 55,
      is_topic_message: true,
    });
    await out;
    expect(sentTo(-100777)).toEqual([expect.objectContaining({ threadId: 55 })]);
  });

  it('a direct message needs no trigger', async () => {
    d.groups.add({ name: 'alice', chats: ['tg:4242'] });
    respond = () => 'hi Alice';
    const out = nextMessage(d, isReply('tg:4242'));
    fake.pushMessage({ chat: privateChat, text: 'hello there' });
    await out;
    expect(sentTo(4242).map((s) => s.visible)).toEqual(['hi Alice']);
    expect(d.store.chats.list().find((c) => c.jid === 'tg:4242')).toMatchObject({
      kind: 'direct',
      name: 'Alice',
    });
  });

  it('an unknown chat is stored for discovery and starts no run', async () => {
    const before = runner.inputs.length;
    const stored = nextMessage(d, (m) => m.chatId === 'tg:-100555');
    fake.pushMessage({ chat: supergroup(-100555, 'Strangers'), text: '@Andy hello?' });
    await stored;
    expect(d.store.chats.list().find((c) => c.jid === 'tg:-100555')).toMatchObject({
      name: 'Strangers',
      kind: 'group',
      group: null,
    });
    // A later triggered message elsewhere runs alone: nothing was queued for the unknown chat.
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy ping' });
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(d.store.runs.list()[0]!.group).toBe('team');
    expect(sentTo(-100555)).toHaveLength(0);
  });

  it('tells the owner once when a new chat addresses the bot; a chat that only talks among itself tells nobody', async () => {
    const notices = () =>
      d.store.outbox
        .byKeyPrefix('notice:newchat:')
        .map((r) => ({ chat: r.chatId, key: r.idemKey, text: r.text }));
    // The notice is delivered to the owner's chat (an event), after the message is stored.
    const first = nextMessage(d, isReply('web:main'));
    fake.pushMessage({
      chat: supergroup(-100777, 'Book club'),
      from: alice,
      text: '@clawpod_test_bot can you join us?',
    });
    await first;
    expect(notices()).toEqual([
      {
        chat: 'web:main', // main's only chat here: the owner's chat
        key: 'notice:newchat:tg:-100777',
        text: expect.stringContaining(
          'A new chat wrote to the bot: tg:-100777 "Book club" — tg:4242: "@clawpod_test_bot can you join us?"',
        ),
      },
    ]);
    expect(notices()[0]!.text).toContain('clawpod groups bind <group> tg:-100777');

    const again = nextMessage(
      d,
      (m) => m.chatId === 'tg:-100777' && m.text === '@clawpod_test_bot hello?',
    );
    fake.pushMessage({
      chat: supergroup(-100777, 'Book club'),
      from: alice,
      text: '@clawpod_test_bot hello?',
    });
    await again;
    const chatter = nextMessage(d, (m) => m.chatId === 'tg:-100778');
    fake.pushMessage({ chat: supergroup(-100778, 'Chatter'), from: alice, text: 'lunch at noon' });
    await chatter;
    // A triggered message in a bound chat afterwards: its reply comes after anything the two
    // messages above set off, and still one notice.
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy ping' });
    await out;
    expect(notices().map((n) => n.key)).toEqual(['notice:newchat:tg:-100777']);
  });

  it('splits a 5,000-character reply into Telegram-sized messages, in order', async () => {
    const paragraphs = Array.from({ length: 25 }, (_, i) =>
      `Paragraph ${i} ${'lorem ipsum '.repeat(16)}`.trim(),
    );
    const long = paragraphs.join('\n\n');
    expect(long.length).toBeGreaterThan(5000);
    respond = () => long;
    d.groups.add({ name: 'long', chats: ['tg:-100600'], requiresTrigger: false });
    const before = sentTo(-100600).length;
    const done = new Promise<void>((resolve) => {
      const on = () => {
        const out = d.store.messages.listChat('tg:-100600', 0).filter((m) => m.direction === 'out');
        if (out.map((m) => m.text).join('\n\n') === long) {
          d.bus.off('message', on);
          resolve();
        }
      };
      d.bus.on('message', on);
    });
    fake.pushMessage({ chat: supergroup(-100600), text: 'write a lot' });
    await done;
    const pieces = sentTo(-100600).slice(before);
    expect(pieces.length).toBe(2);
    for (const p of pieces) expect(p.visible!.length).toBeLessThanOrEqual(4096);
    expect(pieces.map((p) => p.visible).join('\n\n')).toBe(long);
  });

  it('sends plain text when Telegram refuses the formatting', async () => {
    fake.rejectFormatting = true;
    respond = () => 'a **bold** claim';
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy format test' });
    await out;
    const attempts = fake.calls.filter(
      (c) => c.method === 'sendMessage' && String(c.params.text).includes('claim'),
    );
    expect(attempts.map((c) => [c.ok, c.params.parse_mode ?? null])).toEqual([
      [false, 'HTML'],
      [true, null],
    ]);
    expect(sentTo(GROUP).at(-1)).toMatchObject({ text: 'a **bold** claim', parseMode: undefined });
  });

  it('waits out a 429 retry_after and then sends once', async () => {
    fake.failNext('sendMessage', {
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      parameters: { retry_after: 1 },
    });
    respond = () => 'after the flood';
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy flood test' });
    const delivered = await out;
    const attempts = fake.calls.filter(
      (c) => c.method === 'sendMessage' && c.params.text === 'after the flood',
    );
    expect(attempts.map((c) => c.ok)).toEqual([false, true]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(sentTo(GROUP).filter((s) => s.text === 'after the flood')).toHaveLength(1);
    expect(delivered.platformId).toBe(String(sentTo(GROUP).at(-1)!.messageId));
  });

  it('downloads attachments within the size cap, saves them and references them in the prompt', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    fake.addFile('photo-1', jpeg, 'photos/file_1.jpg');
    fake.addFile('huge-1', Buffer.alloc(10_000), 'documents/file_2.pdf');
    const big = nextMessage(d, (m) => m.text.includes('over the 4096-byte limit'));
    fake.pushMessage({
      chat: supergroup(GROUP),
      document: {
        file_id: 'huge-1',
        file_unique_id: 'h1',
        file_name: 'huge.pdf',
        mime_type: 'application/pdf',
        file_size: 10_000,
      },
    });
    await big;
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    fake.pushMessage({
      chat: supergroup(GROUP),
      caption: '@Andy what is this?',
      photo: [
        { file_id: 'photo-1', file_unique_id: 'p1', width: 1, height: 1, file_size: jpeg.length },
      ],
    });
    await out;
    const prompt = runner.inputs.at(-1)!.prompt;
    expect(prompt).toContain('[attachment not downloaded: huge.pdf (application/pdf, 10000 bytes');
    const path = /\/workspace\/group\/(attachments\/[^ ]+) \(image\/jpeg, 8 bytes\)/.exec(
      prompt,
    )?.[1];
    expect(path).toBeDefined();
    expect(readFileSync(join(home, 'groups', 'team', path!))).toEqual(jpeg);
    expect(fake.calls.some((c) => c.method === 'getFile' && c.params.file_id === 'huge-1')).toBe(
      false,
    );
  });

  it('uploads a file the agent sends', async () => {
    d.ipc.ensureGroup('team');
    // Sent outside a conversation (no run): the guard asks unless the owner allowed it.
    d.guard.addRule({
      group: 'team',
      kind: 'send_message',
      pattern: `tg:${GROUP}`,
      effect: 'allow',
    });
    writeFileSync(join(home, 'groups', 'team', 'report.txt'), 'quarterly numbers');
    writeFileSync(
      join(home, 'ipc', 'team', 'requests', 'f1.json'),
      JSON.stringify({
        id: 'f1',
        op: 'send_message',
        args: { chat: `tg:${GROUP}`, text: 'here it is', file: '/workspace/group/report.txt' },
      }),
    );
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    await d.ipc.scan('team', 'requests');
    await out;
    const [text, doc] = sentTo(GROUP).slice(-2);
    expect(text).toMatchObject({ method: 'sendMessage', visible: 'here it is' });
    expect(doc).toMatchObject({ method: 'sendDocument' });
    expect(doc!.file!.filename).toBe('report.txt');
    expect(doc!.file!.data.toString()).toBe('quarterly numbers');
  });

  it('reconnects after a dropped connection without doubling handlers or replies', async () => {
    await fake.whenPollHeld();
    const droppedAt = Date.now();
    expect(fake.dropPolls()).toBe(1);
    await fake.waitForCall((c) => c.method === 'deleteWebhook' && c.at >= droppedAt);
    await fake.whenPollHeld();
    const tg = () => d.status().channels.find((c) => c.name === 'tg')!;
    expect(tg().connected).toBe(true);
    expect(tg().lastError).toMatch(/getUpdates/);

    const before = runner.inputs.length;
    respond = () => 'once only';
    const out = nextMessage(d, isReply(`tg:${GROUP}`));
    const m = fake.pushMessage({ chat: supergroup(GROUP), text: '@Andy after the cut' });
    await out;
    // The same message again (Telegram re-sends what it thinks was not acknowledged).
    const again = fake.pushUpdate({ message: m } as never);
    await fake.waitForCall((c) => c.method === 'getUpdates' && Number(c.params.offset) > again);
    expect(runner.inputs.length).toBe(before + 1);
    expect(sentTo(GROUP).filter((s) => s.text === 'once only')).toHaveLength(1);
    expect(
      d.store.messages.listChat(`tg:${GROUP}`, 0).filter((x) => x.text === '@Andy after the cut'),
    ).toHaveLength(1);
    expect(fake.conflicts).toBe(0);
  });

  it('reports health in status without secrets', async () => {
    const status = d.status();
    expect(status.channels.find((c) => c.name === 'tg')).toMatchObject({ connected: true });
    expect(status.channels.find((c) => c.name === 'tg')!.lastEventAt).toBeGreaterThan(0);
    expect(JSON.stringify(status)).not.toContain(fake.token);
    expect(JSON.stringify(status)).not.toContain(fake.token.split(':')[1]);
  });
});

describe('Telegram channel across a crash', () => {
  it('a send cut by a crash is sent again once on restart (at-least-once: Telegram has no lookup)', async () => {
    const fake = await startFakeTelegram();
    const home = telegramHome(fake);
    const store = Store.open(join(home, 'clawpod.db'));
    store.outbox.enqueue({ idemKey: 'cut-1', chatId: `tg:${GROUP}`, text: 'half sent' }, 1);
    store.outbox.markSending(store.outbox.byKey('cut-1')!.id);
    store.close();
    let done!: ReturnType<typeof nextMessage>;
    const d = await startDaemon(home, [], (x) => (done = nextMessage(x, isReply(`tg:${GROUP}`))));
    try {
      await done;
      const channel = d.channels.forChat(`tg:${GROUP}`)!;
      expect(channel.findSent).toBeUndefined();
      const sent = fake.sent.filter((s) => s.text === 'half sent');
      expect(sent).toHaveLength(1);
      expect(d.store.outbox.byKey('cut-1')).toMatchObject({
        status: 'sent',
        platformId: String(sent[0]!.messageId),
      });
    } finally {
      await d.stop();
      await fake.close();
    }
  });
});

describe('Telegram adapter on its own', () => {
  function capture() {
    const lines: string[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    return { log, lines };
  }
  const settings = (apiRoot: string, token: string) => ({
    token,
    apiRoot,
    mode: 'polling' as const,
    perChatIntervalMs: 0,
    globalPerMinute: 0,
    attachmentMaxBytes: 4096,
    connectWaitMs: 2000,
  });

  it('acknowledges an update only after it is stored: a failed store is fetched again', async () => {
    const fake = await startFakeTelegram();
    const { log } = capture();
    const got: Inbound[] = [];
    let failures = 1;
    const channel = new TelegramChannel(settings(fake.apiRoot, fake.token), log);
    await channel.connect({
      async receive(msg) {
        if (failures-- > 0) throw new Error('disk full');
        got.push(msg);
        return { seq: got.length, duplicate: false, wakes: true };
      },
    });
    try {
      const m = fake.pushMessage({ chat: privateChat, text: 'keep me' });
      const id = fake.calls.length;
      await fake.waitForCall(
        (c) =>
          c.method === 'getUpdates' && Number(c.params.offset) > 0 && fake.calls.indexOf(c) > id,
      );
      expect(got.map((x) => [x.platformId, x.text, x.mentioned])).toEqual([
        [String(m.message_id), 'keep me', true],
      ]);
      const polls = fake.calls
        .filter((c) => c.method === 'getUpdates')
        .map((c) => Number(c.params.offset));
      // The offset stayed before the update until it was stored, then moved past it.
      expect(polls.filter((o) => o > 0)).toHaveLength(1);
      expect(channel.health().lastError).toContain('disk full');
    } finally {
      await channel.disconnect();
      await fake.close();
    }
    expect(channel.connection.name).toBe('stopped');
  });

  it('never puts the token in a log line or in health, whatever fails', async () => {
    const fake = await startFakeTelegram();
    const wrong = '111111:BBwrongTokenButRealisticShape_xyz1';
    const a = capture();
    const refused = new TelegramChannel(settings(fake.apiRoot, wrong), a.log);
    await refused.connect({ receive: async () => ({ seq: 1, duplicate: false, wakes: true }) });
    expect(refused.health()).toMatchObject({
      connected: false,
      lastError: 'getMe: 401 Unauthorized',
    });
    await refused.disconnect();

    const port = await freePort();
    const b = capture();
    const unreachable = new TelegramChannel(
      settings(`http://127.0.0.1:${port}`, fake.token),
      b.log,
    );
    await unreachable.connect({ receive: async () => ({ seq: 1, duplicate: false, wakes: true }) });
    expect(unreachable.health().connected).toBe(false);
    expect(unreachable.health().lastError).toMatch(/getMe.*ECONNREFUSED/);
    await expect(unreachable.send(`tg:${GROUP}`, 'x', { idemKey: 'k' })).rejects.toThrow(
      /sendMessage/,
    );
    await unreachable.disconnect();
    await fake.close();

    const all = [...a.lines, ...b.lines].join('\n');
    expect(all).toContain('reconnecting');
    for (const secret of [wrong, fake.token, wrong.split(':')[1]!, fake.token.split(':')[1]!])
      expect(all).not.toContain(secret);
    expect(JSON.stringify([refused.health(), unreachable.health()])).not.toContain(
      fake.token.split(':')[1]!,
    );
  });
});

describe('Telegram webhook mode and configuration', () => {
  it("takes updates on the daemon's HTTP server, checks the secret, answers after storing", async () => {
    const fake = await startFakeTelegram();
    const port = await freePort();
    // The public URL a proxy would forward; here it is the daemon's own route.
    const url = `http://127.0.0.1:${port}/channels/telegram/webhook`;
    const home = telegramHome(fake, `, mode: webhook, webhook: { url: "${url}" }`);
    const config = join(home, 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('port: 0', `port: ${port}`));
    const d = await startDaemon(home, [scriptedLauncher(() => reply('via webhook'))]);
    try {
      expect(d.port).toBe(port);
      d.groups.add({ name: 'alice', chats: ['tg:4242'] });
      expect(fake.webhook).toMatchObject({ url });
      expect(fake.webhook!.secretToken).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.calls.some((c) => c.method === 'getUpdates')).toBe(false);
      const msg = {
        message_id: 1,
        date: 1_700_000_000,
        chat: privateChat,
        from: alice,
        text: 'hi hook',
      };
      const bad = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'wrong' },
        body: JSON.stringify({ update_id: 1, message: msg }),
      });
      expect(bad.status).toBe(401);
      expect(d.store.messages.listChat('tg:4242', 0)).toHaveLength(0);
      const out = nextMessage(d, isReply('tg:4242'));
      expect(await fake.postWebhook({ message: msg } as never)).toBe(200);
      // Answered only after storing: the message is already there.
      expect(d.store.messages.listChat('tg:4242', 0).map((m) => m.text)).toContain('hi hook');
      await out;
      expect(fake.sent.at(-1)).toMatchObject({ chatId: 4242, visible: 'via webhook' });
    } finally {
      await d.stop();
      await fake.close();
    }
  });

  it('is skipped with a reason when its token variable is not set', async () => {
    const home = tempHome('channels:\n  telegram: { token: env:NO_SUCH_TELEGRAM_TOKEN }\n');
    const d = await startDaemon(home, []);
    try {
      expect(d.status().channels.map((c) => c.name)).not.toContain('tg');
    } finally {
      await d.stop();
    }
  });
});
