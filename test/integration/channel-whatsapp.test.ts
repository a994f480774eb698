import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WhatsAppChannel } from '../../src/channels/whatsapp/adapter.js';
import { builtinChannels } from '../../src/channels/index.js';
import { whatsappFactory } from '../../src/channels/whatsapp/index.js';
import type { Daemon } from '../../src/daemon.js';
import { BOT_JID, fakeConnect } from '../fakes/whatsapp-socket.js';
import { nextMessage, runEnded, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher, type ScriptedLauncher } from '../support/scripted-launcher.js';

const GROUP = '120363000000000001@g.us';
const ALICE = '4917000000002@s.whatsapp.net';
const isReply = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

describe('WhatsApp channel in a running daemon (fake Baileys socket)', () => {
  const fake = fakeConnect();
  let d: Daemon;
  let runner: ScriptedLauncher;
  let home: string;
  let respond: (prompt: string) => string = () => 'ok';
  let n = 0;
  const sock = () => fake.latest();
  const groupMsg = (text: string, extra: Record<string, unknown> = {}) =>
    sock().push({
      key: { remoteJid: GROUP, id: `G${++n}`, participant: ALICE },
      pushName: 'Alice',
      message: { extendedTextMessage: { text, ...extra } },
    });

  beforeAll(async () => {
    // The daemon's channel list with WhatsApp built on the fake socket.
    const whatsapp = whatsappFactory({
      connect: fake.connect,
      reconnectBaseMs: 5,
      connectWaitMs: 1000,
    });
    const channels = builtinChannels.map((f) => (f.name === 'whatsapp' ? whatsapp : f));
    home = tempHome(
      'attachments: { maxBytes: 4096 }\nchannels:\n  whatsapp: { enabled: true, perChatIntervalMs: 0, globalPerMinute: 0 }\n',
    );
    runner = scriptedLauncher(async ({ prompt }) => reply(respond(prompt)));
    d = await startDaemon(home, [runner], undefined, {}, { channels });
    d.groups.add({ name: 'team', chats: [`wa:${GROUP}`] });
  });
  afterAll(async () => {
    await d.stop();
  });

  it('connects through the factory it was given', () => {
    expect(d.channels.forChat(`wa:${GROUP}`)?.health().connected).toBe(true);
  });

  it('a mention of the bot runs the group and the reply goes to the group jid', async () => {
    respond = () => 'hello team';
    const out = nextMessage(d, isReply(`wa:${GROUP}`));
    const ended = runEnded(d);
    groupMsg('@4915100000001 status?', { contextInfo: { mentionedJid: [BOT_JID] } });
    await out;
    await ended;
    expect(sock().sent.at(-1)).toEqual({ jid: GROUP, content: { text: 'hello team' } });
    const stored = d.store.messages
      .listChat(`wa:${GROUP}`, 0)
      .find((m) => m.platformId === `G${n}`)!;
    expect(stored).toMatchObject({ sender: `wa:${ALICE}`, senderName: 'Alice', mentioned: true });
  });

  it('an untriggered group message is stored as context and starts no run', async () => {
    const before = runner.inputs.length;
    const stored = nextMessage(d, (m) => m.text === 'just chatting');
    groupMsg('just chatting');
    await stored;
    const out = nextMessage(d, isReply(`wa:${GROUP}`));
    groupMsg('@Andy summarise');
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(runner.inputs.at(-1)!.prompt).toContain('just chatting');
  });

  it('a quoted reply reaches the prompt with its quote line', async () => {
    const out = nextMessage(d, isReply(`wa:${GROUP}`));
    groupMsg('@Andy what about this?', {
      contextInfo: {
        stanzaId: 'Q1',
        participant: '4917000000005@s.whatsapp.net',
        quotedMessage: { conversation: 'the deploy failed' },
      },
    });
    await out;
    expect(runner.inputs.at(-1)!.prompt).toMatch(/(>|&gt;) 4917000000005: the deploy failed/);
    const stored = d.store.messages
      .listChat(`wa:${GROUP}`, 0)
      .find((m) => m.platformId === `G${n}`)!;
    expect(stored.replyTo).toBe('Q1');
  });

  it('a direct message needs no trigger; the bot echo is not stored twice', async () => {
    d.groups.add({ name: 'alice', chats: [`wa:${ALICE}`] });
    respond = () => 'hi Alice';
    const out = nextMessage(d, isReply(`wa:${ALICE}`));
    sock().push({
      key: { remoteJid: ALICE, id: 'D1' },
      pushName: 'Alice',
      message: { conversation: 'hello' },
    });
    await out;
    expect(sock().sent.at(-1)).toEqual({ jid: ALICE, content: { text: 'hi Alice' } });
    await new Promise((r) => setTimeout(r, 50));
    const texts = d.store.messages
      .listChat(`wa:${ALICE}`, 0)
      .map((m) => `${m.direction}:${m.text}`);
    expect(texts).toEqual(['in:hello', 'out:hi Alice']);
    expect(d.store.chats.list().find((c) => c.jid === `wa:${ALICE}`)).toMatchObject({
      kind: 'direct',
    });
  });

  it('media is downloaded and saved into the group folder', async () => {
    fake.media.set('IMG1', Buffer.from('PNGDATA'));
    const out = nextMessage(d, isReply(`wa:${GROUP}`));
    sock().push({
      key: { remoteJid: GROUP, id: 'IMG1', participant: ALICE },
      message: {
        imageMessage: {
          caption: '@Andy what is in this?',
          mimetype: 'image/png',
          contextInfo: { mentionedJid: [BOT_JID] },
        },
      },
    });
    await out;
    const dir = join(home, 'groups', 'team', 'attachments');
    const files = readdirSync(dir).filter((f) => f.includes('IMG1'));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toBe('PNGDATA');
    expect(runner.inputs.at(-1)!.prompt).toContain('/workspace/group/attachments/');
  });

  it('after a reconnect each message is handled once', async () => {
    const before = runner.inputs.length;
    const old = sock();
    old.close(428);
    await new Promise((r) => setTimeout(r, 60));
    expect(fake.sockets.length).toBeGreaterThan(1);
    expect(old.listenerCount('messages.upsert')).toBe(0);
    const ch = d.channels.forChat(`wa:${GROUP}`) as WhatsAppChannel;
    expect(ch.health().connected).toBe(true);
    expect(ch.attachedSockets).toBe(1);
    const out = nextMessage(d, isReply(`wa:${GROUP}`));
    groupMsg('@Andy again');
    await out;
    expect(runner.inputs.length).toBe(before + 1);
    expect(
      d.store.messages.listChat(`wa:${GROUP}`, 0).filter((m) => m.text === '@Andy again'),
    ).toHaveLength(1);
  });

  it('a logout clears the auth folder and leaves the channel disconnected', async () => {
    const count = fake.sockets.length;
    sock().close(401);
    // The auth folder goes first (file system work: its time varies with the machine's load)…
    await vi.waitFor(() => expect(existsSync(join(home, 'channels', 'whatsapp'))).toBe(false), {
      timeout: 5000,
      interval: 10,
    });
    // …then time for a wrong reconnect (5 ms base delay) to show.
    await new Promise((r) => setTimeout(r, 60));
    const ch = d.channels.forChat(`wa:${GROUP}`) as WhatsAppChannel;
    expect(ch.connection.name).toBe('logged-out');
    expect(ch.health()).toMatchObject({ connected: false });
    expect(existsSync(join(home, 'channels', 'whatsapp'))).toBe(false);
    expect(fake.sockets.length).toBe(count);
  });
});
