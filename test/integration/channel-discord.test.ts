import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiscordChannel } from '../../src/channels/discord/adapter.js';
import { nonceFor } from '../../src/channels/discord/outbound.js';
import type { Daemon } from '../../src/daemon.js';
import { Store } from '../../src/store/store.js';
import { FakeDiscord, type FakeUser, type PostRecord } from '../fakes/discord-server.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher, type Script } from '../support/scripted-launcher.js';

const TOKEN = 'fake-discord-token-0123456789';
const BOT: FakeUser = { id: '900000000000000001', username: 'Andy' };
const GUILD = '800000000000000001';
const GENERAL = '700000000000000001';
const THREAD = '700000000000000002';
const RANDOM = '700000000000000003';
const PICS = '700000000000000004';
const alice: FakeUser = { id: '600000000000000001', username: 'alice', global_name: 'Alice' };
/** A chat id: a channel (or DM), or a thread under its parent channel. */
const chat = (id: string, thread?: string) => `discord:${id}${thread ? `/${thread}` : ''}`;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fake Discord with one server "Lab" (general, a thread "plans", random, pics). */
async function startFake(port?: number) {
  const fake = await FakeDiscord.start({
    token: TOKEN,
    bot: BOT,
    port,
    guilds: [
      {
        id: GUILD,
        name: 'Lab',
        channels: [
          { id: GENERAL, type: 0, name: 'general' },
          { id: THREAD, type: 11, name: 'plans', parentId: GENERAL },
          { id: RANDOM, type: 0, name: 'random' },
          { id: PICS, type: 0, name: 'pics' },
        ],
      },
    ],
  });
  cleanups.push(() => fake.close());
  return fake;
}

/**
 * A fake Discord, and a real daemon whose discord channel points at it. With `down`, the fake is
 * closed again before the daemon starts (Discord unreachable); `startFake(port)` brings it back.
 */
async function world(
  opts: {
    script?: Script;
    yaml?: string;
    home?: (fake: FakeDiscord) => string;
    down?: boolean;
  } = {},
) {
  const fake = await startFake();
  const yaml =
    `channels:\n  discord: { token: env:DISCORD_BOT_TOKEN, apiBase: "${fake.apiBase}", perChatIntervalMs: 20, reconnectDelayMs: 50 }\n` +
    (opts.yaml ?? '');
  const home = opts.home?.(fake) ?? tempHome();
  writeFileSync(join(home, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8') + yaml);
  writeFileSync(join(home, '.env'), `DISCORD_BOT_TOKEN=${TOKEN}\n`);
  const port = Number(new URL(fake.apiBase).port);
  if (opts.down) await fake.close();
  const runner = scriptedLauncher(opts.script ?? (() => reply('ok')));
  const d = await startDaemon(home, [runner]);
  cleanups.push(() => d.stop());
  return { fake, d, runner, home, port };
}

const outIn = (d: Daemon, jid: string) =>
  nextMessage(d, (m) => m.direction === 'out' && m.chatId === jid);
const stored = (d: Daemon, jid: string) =>
  nextMessage(d, (m) => m.direction === 'in' && m.chatId === jid);
const created = (fake: FakeDiscord, n: number) =>
  new Promise<void>((resolve) => {
    let seen = 0;
    fake.on('created', () => ++seen === n && resolve());
  });
const okPosts = (fake: FakeDiscord, id: string) =>
  fake.posts.filter((p) => p.channelId === id && p.status === 200);

describe('Discord adapter against a fake Discord (real discord.js)', () => {
  it('connects with the needed intents; a trigger or mention gets a reply in that channel or thread, plain chatter is only stored', async () => {
    const { fake, d, runner } = await world();
    expect(fake.identifies[0]!.intents).toBe(1 | 512 | 4096 | 32768);
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] }); // its threads follow it

    const chatter = stored(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: 'just chatting' });
    await chatter;
    let out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy what is new?' });
    await out;
    expect(runner.inputs).toHaveLength(1);
    expect(runner.inputs[0]!.prompt).toContain('just chatting');
    expect(okPosts(fake, GENERAL).map((p) => p.body.content)).toEqual(['ok']);

    out = outIn(d, chat(GENERAL, THREAD));
    fake.userSays({ channelId: THREAD, author: alice, content: `<@${BOT.id}> and here?` });
    const reply2 = await out;
    expect(runner.inputs).toHaveLength(2);
    expect(runner.inputs[1]!.prompt).toContain('@Andy and here?');
    expect(okPosts(fake, THREAD)).toHaveLength(1);
    expect(reply2.platformId).toBe(fake.messagesIn(THREAD).at(-1)!.id);

    // The bot's own messages come back over the gateway and are not stored as inbound.
    const rows = d.store.messages.listChat(chat(GENERAL), 0);
    expect(rows.map((m) => `${m.direction}:${m.sender}`)).toEqual([
      `in:discord:${alice.id}`,
      `in:discord:${alice.id}`,
      'out:assistant',
    ]);
    expect(d.store.messages.listChat(chat(GENERAL, THREAD), 0)[0]!.mentioned).toBe(true);
    const health = d.status().channels.find((c) => c.name === 'discord');
    expect(health).toMatchObject({ connected: true, lastError: null });
    expect(health!.lastEventAt).toBeGreaterThan(0);
  });

  it('a DM wakes its group without a trigger; a reply to the bot quotes it and counts as addressing it', async () => {
    const { fake, d, runner } = await world();
    const dm = fake.openDm(alice);
    d.groups.add({ name: 'alice', chats: [chat(dm)] });
    let out = outIn(d, chat(dm));
    fake.userSays({ channelId: dm, author: alice, content: 'hello there' });
    const first = await out;
    expect(runner.inputs).toHaveLength(1);
    expect(d.store.chats.list().find((c) => c.jid === chat(dm))).toMatchObject({
      kind: 'direct',
      name: 'DM with Alice',
      group: 'alice',
    });

    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy start' });
    const botMsg = await out;
    out = outIn(d, chat(GENERAL));
    fake.userSays({
      channelId: GENERAL,
      author: alice,
      content: 'and then?',
      replyTo: botMsg.platformId,
    });
    await out;
    expect(runner.inputs).toHaveLength(3);
    const quoted = d.store.messages
      .listChat(chat(GENERAL), 0)
      .find((m) => m.direction === 'in' && m.replyTo);
    expect(quoted).toMatchObject({ replyTo: botMsg.platformId, mentioned: true });
    expect(quoted!.text).toBe('and then?\n> Andy: ok');
    expect(first.platformId).toMatch(/^\d+$/);
  });

  it('a message from an unbound channel is kept as a discoverable chat and runs nothing', async () => {
    const { fake, d, runner } = await world();
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    const kept = stored(d, chat(RANDOM));
    fake.userSays({ channelId: RANDOM, author: alice, content: `<@${BOT.id}> anyone?` });
    await kept;
    expect(d.store.chats.list().find((c) => c.jid === chat(RANDOM))).toMatchObject({
      name: 'Lab #random',
      kind: 'group',
      group: null,
    });
    // A thread the bot never heard of (no THREAD_CREATE): looked up once for its name.
    const LATE = '700000000000000009';
    fake.channels.set(LATE, {
      id: LATE,
      type: 11,
      name: 'late',
      guildId: GUILD,
      parentId: RANDOM,
    });
    const late = stored(d, chat(RANDOM, LATE));
    fake.userSays({ channelId: LATE, author: alice, content: 'new thread' });
    await late;
    expect(d.store.chats.list().find((c) => c.jid === chat(RANDOM, LATE))).toMatchObject({
      name: 'Lab #random › late',
      group: null,
    });
    // A later triggered message elsewhere is the only run.
    const out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy hi' });
    await out;
    expect(runner.inputs).toHaveLength(1);
    expect(runner.inputs[0]!.prompt).not.toContain('anyone?');
  });

  it('a 5,000-character reply is split under 2,000 per message, in order; the typing indicator runs meanwhile', async () => {
    const long = Array.from({ length: 50 }, (_, i) => `Line ${i}: ${'x'.repeat(90)}`).join('\n');
    const typing: { seen?: Promise<string> } = {};
    const { fake, d } = await world({
      script: async () => {
        await typing.seen; // the reply waits until Discord has been told the bot is typing
        return reply(long);
      },
    });
    typing.seen = fake.next<string>('typing', (id) => id === GENERAL);
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    const all = created(fake, 3);
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy write a lot' });
    await all;
    const contents = okPosts(fake, GENERAL).map((p) => p.body.content as string);
    expect(contents).toHaveLength(3);
    for (const c of contents) expect(c.length).toBeLessThanOrEqual(2000);
    expect(contents.join('\n')).toBe(long);
    expect(fake.typing).toContain(GENERAL);
  });

  it('when Discord rejects the formatted text, the piece is sent again as plain text', async () => {
    const { fake, d } = await world({
      script: () => reply('## Plan\n**Bold** and [a link](https://example.com)'),
    });
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    fake.failNext.push({ kind: 'content-rejected' });
    const out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy plan?' });
    await out;
    const posts = fake.posts.filter((p) => p.channelId === GENERAL);
    expect(posts.map((p) => [p.status, p.body.content])).toEqual([
      [400, '## Plan\n**Bold** and [a link](https://example.com)'],
      [200, 'Plan\nBold and a link (https://example.com)'],
    ]);
  });

  it('a 429 is waited out (Retry-After) and each piece is sent once, still in order', async () => {
    const long = `${'a'.repeat(1500)}\n\n${'b'.repeat(1500)}`;
    const { fake, d } = await world({ script: () => reply(long) });
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    fake.failNext.push({ kind: 'rate-limit', retryAfterS: 1 });
    const both = created(fake, 2);
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy go' });
    await both;
    const posts: PostRecord[] = fake.posts.filter((p) => p.channelId === GENERAL);
    expect(posts.map((p) => p.status)).toEqual([429, 200, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(posts[1]!.body.nonce).toBe(posts[0]!.body.nonce);
    expect(
      fake
        .messagesIn(GENERAL)
        .filter((m) => m.author && (m.author as FakeUser).id === BOT.id)
        .map((m) => (m.content as string)[0]),
    ).toEqual(['a', 'b']);
  });

  it("a send cut by a crash is not posted twice on restart (nonce within Discord's window; at-least-once beyond it)", async () => {
    let seededRecent = '';
    const { fake, d } = await world({
      home: (f) => {
        const home = tempHome();
        const store = Store.open(join(home, 'clawpod.db'));
        for (const key of ['cut-1', 'cut-2']) {
          store.outbox.enqueue({ idemKey: key, chatId: chat(GENERAL), text: `piece ${key}` }, 1);
          store.outbox.markSending(store.outbox.byKey(key)!.id);
        }
        store.close();
        seededRecent = f.seedBotMessage(GENERAL, 'piece cut-1', nonceFor('cut-1'));
        f.seedBotMessage(GENERAL, 'piece cut-2', nonceFor('cut-2'), Date.now() - 10 * 60_000);
        return home;
      },
    });
    await new Promise<void>((resolve) => {
      const check = () => {
        if (['cut-1', 'cut-2'].every((k) => d.store.outbox.byKey(k)?.status === 'sent')) resolve();
      };
      d.bus.on('message', check);
      check();
    });
    expect(d.store.outbox.byKey('cut-1')!.platformId).toBe(seededRecent);
    const texts = fake.messagesIn(GENERAL).map((m) => m.content);
    expect(texts.filter((t) => t === 'piece cut-1')).toHaveLength(1);
    expect(texts.filter((t) => t === 'piece cut-2')).toHaveLength(2); // documented limit
  });

  it('attachments are downloaded and saved into the group folder; one over the size cap is noted, not fetched', async () => {
    const { fake, d, runner, home } = await world({ yaml: 'attachments: { maxBytes: 2048 }\n' });
    d.groups.add({ name: 'pics', chats: [chat(PICS)] });
    const downloads: string[] = [];
    fake.on('download', (p: string) => downloads.push(p));
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const out = outIn(d, chat(PICS));
    fake.userSays({
      channelId: PICS,
      author: alice,
      content: '@Andy look',
      attachments: [
        { name: 'photo.png', contentType: 'image/png', data: png },
        { name: 'voice-message.ogg', contentType: 'audio/ogg', data: Buffer.alloc(10), size: 5000 },
      ],
    });
    await out;
    const prompt = runner.inputs[0]!.prompt;
    const saved = /\/workspace\/group\/(attachments\/\S+photo\.png)/.exec(prompt);
    expect(saved).not.toBeNull();
    expect(readFileSync(join(home, 'groups', 'pics', saved![1]!))).toEqual(png);
    expect(prompt).toContain('attachment not downloaded: voice-message.ogg (audio/ogg, 5000 bytes');
    expect(downloads).toHaveLength(1);
  });

  it('a file the agent sends is uploaded as multipart with the text', async () => {
    const { fake, d, home } = await world();
    d.groups.add({ name: 'files', chats: [chat(GENERAL)] });
    d.ipc.ensureGroup('files');
    // Sent outside a conversation (no run): the guard asks unless the owner allowed it.
    d.guard.addRule({
      group: 'files',
      kind: 'send_message',
      pattern: chat(GENERAL),
      effect: 'allow',
    });
    writeFileSync(join(home, 'groups', 'files', 'report.txt'), 'quarterly numbers');
    writeFileSync(
      join(home, 'ipc', 'files', 'requests', 'f1.json'),
      JSON.stringify({
        id: 'f1',
        op: 'send_message',
        args: { chat: chat(GENERAL), text: 'here it is', file: '/workspace/group/report.txt' },
      }),
    );
    const out = outIn(d, chat(GENERAL));
    await d.ipc.scan('files', 'requests');
    await out;
    const [post] = okPosts(fake, GENERAL);
    expect(post!.body.content).toBe('here it is');
    expect(post!.files.map((f) => [f.name, f.data.toString()])).toEqual([
      ['report.txt', 'quarterly numbers'],
    ]);
  });

  it('after a resumed drop and after a fresh login, one message still makes one run and one reply', async () => {
    const { fake, d, runner } = await world();
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    // Every hand-over to the router, counted per Discord message id: a doubled handler shows here
    // even though the store would swallow the duplicate.
    const handed = new Map<string, number>();
    const receive = d.router.receive.bind(d.router);
    vi.spyOn(d.router, 'receive').mockImplementation((msg) => {
      handed.set(msg.platformId, (handed.get(msg.platformId) ?? 0) + 1);
      return receive(msg);
    });
    const resumed = fake.next('resume');
    fake.dropConnections(4000);
    // Said while the bot is away: Discord replays it on RESUME.
    let out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy while you were away' });
    await resumed;
    await out;
    expect(runner.inputs).toHaveLength(1);

    // 4010: discord.js gives up; the adapter logs in again with a fresh client.
    const relogged = fake.next('identify', (n: number) => n === 2);
    fake.dropConnections(4010);
    await relogged;
    out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy and now?' });
    await out;
    expect(runner.inputs).toHaveLength(2);
    expect(okPosts(fake, GENERAL)).toHaveLength(2);
    expect(fake.gatewayBotCalls).toBe(2);
    expect([...handed.values()]).toEqual([1, 1]);
    expect(fake.openSockets).toBe(1); // the replaced client is gone, not listening on the side
    expect(d.status().channels.find((c) => c.name === 'discord')!.connected).toBe(true);
  });
});

describe('Discord adapter: connection trouble', () => {
  it('messages posted while clawpod was down are caught up after a restart', async () => {
    const { fake, d, home } = await world();
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    const out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy first' });
    await out;
    await d.stop();
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy while you were down' });
    const runner = scriptedLauncher(() => reply('caught up'));
    let caught!: ReturnType<typeof outIn>;
    const d2 = await startDaemon(home, [runner], (x) => (caught = outIn(x, chat(GENERAL))));
    cleanups.push(() => d2.stop());
    expect((await caught).text).toBe('caught up');
    expect(runner.inputs).toHaveLength(1);
    expect(runner.inputs[0]!.prompt).toContain('while you were down');
    expect(runner.inputs[0]!.prompt).not.toContain('first');
    expect(okPosts(fake, GENERAL).map((p) => p.body.content)).toEqual(['ok', 'caught up']);
  });

  it('with Discord unreachable the daemon starts anyway; the adapter logs in with backoff when it is back', async () => {
    const { d, runner, port } = await world({ down: true });
    const health = () => d.status().channels.find((c) => c.name === 'discord')!;
    expect(health()).toMatchObject({
      connected: false,
      lastError: expect.stringContaining('ECONNREFUSED'),
    });
    const fake = await startFake(port);
    await fake.next('identify');
    d.groups.add({ name: 'team', chats: [chat(GENERAL)] });
    const out = outIn(d, chat(GENERAL));
    fake.userSays({ channelId: GENERAL, author: alice, content: '@Andy you are back' });
    await out;
    expect(runner.inputs).toHaveLength(1);
    expect(health().connected).toBe(true);
  });

  async function adapterAgainst(fake: FakeDiscord, token: string) {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
    const adapter = new DiscordChannel(
      {
        token,
        apiBase: fake.apiBase,
        perChatIntervalMs: 0,
        globalPerMinute: 0,
        reconnectDelayMs: 50,
        attachmentMaxBytes: 1024,
        readyTimeoutMs: 10_000,
      },
      log,
    );
    cleanups.push(() => adapter.disconnect());
    await adapter.connect({ receive: async () => ({ seq: 0, duplicate: false, wakes: true }) });
    return { adapter, lines };
  }
  const start = async () => {
    const fake = await FakeDiscord.start({ token: TOKEN, bot: BOT, guilds: [] });
    cleanups.push(() => fake.close());
    return fake;
  };

  it('a rejected token stops the channel with a clear error; no log line holds the token', async () => {
    const fake = await start();
    const wrong = 'wrong-token-abcdef-123456';
    const { adapter, lines } = await adapterAgainst(fake, wrong);
    expect(adapter.health()).toMatchObject({
      connected: false,
      lastError: expect.stringContaining('rejected the bot token'),
    });
    expect(fake.unauthorized).toBe(1); // not retried: it cannot get better by itself
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(wrong);
  });

  it('a bot without the Message Content intent says what to enable', async () => {
    const fake = await start();
    fake.refusePrivilegedIntents();
    const { adapter } = await adapterAgainst(fake, TOKEN);
    expect(adapter.health().lastError).toContain('Message Content Intent');
    expect(fake.identifies).toHaveLength(1);
  });
});
