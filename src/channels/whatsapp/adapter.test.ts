import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/logger.js';
import { BOT_JID, fakeConnect } from '../../../test/fakes/whatsapp-socket.js';
import type { Inbound, InboundSink } from '../channel.js';
import { WhatsAppChannel, type WhatsAppSettings } from './adapter.js';

const GROUP = '120363000000000001@g.us';

function sink(): InboundSink & { got: Inbound[]; next: () => Promise<Inbound> } {
  const got: Inbound[] = [];
  let waiter: ((m: Inbound) => void) | undefined;
  return {
    got,
    next: () => new Promise((r) => (waiter = r)),
    receive: async (m) => {
      got.push(m);
      waiter?.(m);
      waiter = undefined;
      return { seq: got.length, duplicate: false, wakes: true };
    },
  };
}

function channel(over: Partial<WhatsAppSettings> = {}, autoOpen = true) {
  const fake = fakeConnect({ autoOpen });
  const authDir = join(mkdtempSync(join(tmpdir(), 'wa-auth-')), 'whatsapp');
  const ch = new WhatsAppChannel(
    {
      connect: fake.connect,
      authDir,
      assistantName: 'Andy',
      selfChat: false,
      phoneNumber: null,
      perChatIntervalMs: 0,
      globalPerMinute: 0,
      attachmentMaxBytes: 4096,
      reconnectBaseMs: 5,
      connectWaitMs: 200,
      ...over,
    },
    silentLogger(),
  );
  return { ch, fake, authDir };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('WhatsAppChannel against a fake Baileys socket', () => {
  it('connects, reports health and sends to the jid of the chat', async () => {
    const { ch, fake } = channel();
    await ch.connect(sink());
    expect(ch.health().connected).toBe(true);
    expect(ch.connection).toEqual({ name: 'connected', jid: BOT_JID });
    await ch.send(`wa:${GROUP}`, 'hello', { idemKey: 'k1' });
    expect(fake.latest().sent).toEqual([{ jid: GROUP, content: { text: 'hello' } }]);
    // The same idempotency key never posts twice.
    await ch.send(`wa:${GROUP}`, 'hello', { idemKey: 'k1' });
    expect(fake.latest().sent).toHaveLength(1);
    await ch.setTyping(`wa:${GROUP}`, true);
    await ch.setTyping(`wa:${GROUP}`, false);
    expect(fake.latest().presence).toEqual([
      { type: 'composing', jid: GROUP },
      { type: 'paused', jid: GROUP },
    ]);
    await ch.disconnect();
  });

  it('the echo of its own send is not stored again (no loop)', async () => {
    const { ch } = channel();
    const s = sink();
    await ch.connect(s);
    await ch.send('wa:4917000000002@s.whatsapp.net', 'reply text', { idemKey: 'k' });
    await tick();
    expect(s.got).toHaveLength(0);
    await ch.disconnect();
  });

  it('self mode: prefixes sends; prefixed fromMe is the bot, other fromMe the owner', async () => {
    const { ch, fake } = channel({ selfChat: true });
    const s = sink();
    await ch.connect(s);
    await ch.send(`wa:${BOT_JID}`, 'done', { idemKey: 'a' });
    expect(fake.latest().sent[0]!.content).toEqual({ text: 'Andy: done' });
    await tick();
    expect(s.got).toHaveLength(0);
    // A prefixed message typed elsewhere (another device of the bot) is a bot message.
    fake.latest().push({
      key: { remoteJid: BOT_JID, id: 'X1', fromMe: true },
      message: { conversation: 'Andy: earlier answer' },
    });
    const bot = await s.next();
    expect(bot).toMatchObject({ isBot: true, mentioned: false });
    fake.latest().push({
      key: { remoteJid: BOT_JID, id: 'X2', fromMe: true },
      message: { conversation: 'remind me tomorrow' },
    });
    const owner = await s.next();
    expect(owner).toMatchObject({ isBot: false, mentioned: true, sender: `wa:${BOT_JID}` });
    await ch.disconnect();
  });

  it('without self mode every fromMe message is a bot message', async () => {
    const { ch, fake } = channel();
    const s = sink();
    await ch.connect(s);
    fake.latest().push({
      key: { remoteJid: GROUP, id: 'Y1', fromMe: true },
      message: { conversation: 'sent from the phone' },
    });
    expect(await s.next()).toMatchObject({ isBot: true, mentioned: false });
    await ch.disconnect();
  });

  it('media: downloaded under the cap, refused undownloaded over it', async () => {
    const { ch, fake } = channel();
    const s = sink();
    await ch.connect(s);
    fake.media.set('V1', Buffer.from('OGG'));
    fake.latest().push({
      key: { remoteJid: '4917000000002@s.whatsapp.net', id: 'V1' },
      message: { audioMessage: { ptt: true, mimetype: 'audio/ogg', fileLength: 3 } },
    });
    const voice = await s.next();
    expect(voice.attachments).toEqual([
      { name: 'voice.ogg', mime: 'audio/ogg', data: Buffer.from('OGG') },
    ]);
    fake.media.set('B1', Buffer.alloc(10));
    fake.latest().push({
      key: { remoteJid: '4917000000002@s.whatsapp.net', id: 'B1' },
      message: { documentMessage: { fileName: 'big.zip', fileLength: 999_999 } },
    });
    const big = await s.next();
    expect(big.attachments).toBeUndefined();
    expect(big.text).toBe('[document not saved: big.zip (999999 bytes, over the limit)]');
    await ch.disconnect();
  });

  it('reconnects after a close with handlers on the new socket only', async () => {
    const { ch, fake } = channel();
    const s = sink();
    await ch.connect(s);
    const first = fake.latest();
    first.close(428);
    expect(ch.health().connected).toBe(false);
    expect(first.listenerCount('messages.upsert')).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.sockets).toHaveLength(2);
    const second = fake.latest();
    expect(ch.health().connected).toBe(true);
    expect(second.listenerCount('messages.upsert')).toBe(1);
    expect(second.listenerCount('connection.update')).toBe(1);
    second.push({
      key: { remoteJid: '4917000000002@s.whatsapp.net', id: 'Z1' },
      message: { conversation: 'once' },
    });
    await tick();
    expect(s.got.map((m) => m.text)).toEqual(['once']);
    await ch.disconnect();
  });

  it('loggedOut clears the auth state and stops reconnecting', async () => {
    const { ch, fake, authDir } = channel();
    mkdirSync(authDir, { recursive: true });
    writeFileSync(join(authDir, 'creds.json'), '{}');
    await ch.connect(sink());
    fake.latest().close(401);
    await tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(authDir)).toBe(false);
    expect(fake.sockets).toHaveLength(1);
    expect(ch.connection.name).toBe('logged-out');
    expect(ch.health().lastError).toMatch(/logged this device out/);
    await ch.disconnect();
  });

  it('pairing: QR kept in state and health; pairing code requested once for a phone number', async () => {
    const qrs: string[] = [];
    const a = channel(
      { onQr: (q) => qrs.push(q), renderQr: async (q) => `[blocks of ${q}]`, connectWaitMs: 20 },
      false,
    );
    await a.ch.connect(sink());
    a.fake.latest().qr('QR-1');
    expect(a.ch.connection).toMatchObject({ name: 'pairing', qr: 'QR-1' });
    expect(a.ch.health().lastError).toMatch(/scan the QR/);
    await tick();
    expect(a.ch.health().pairing).toEqual({ qrText: '[blocks of QR-1]', code: null });
    expect(qrs).toEqual(['QR-1']);
    await a.ch.disconnect();

    const b = channel({ phoneNumber: '4915100000001', connectWaitMs: 20 }, false);
    await b.ch.connect(sink());
    b.fake.latest().qr('QR-1');
    b.fake.latest().qr('QR-2');
    await tick();
    expect(b.fake.latest().pairingRequests).toEqual(['4915100000001']);
    expect(b.ch.connection).toMatchObject({ name: 'pairing', pairingCode: 'ABCD1234' });
    await b.ch.disconnect();
  });

  it('spaces sends per chat and caps them per minute (fake clock)', async () => {
    let now = 1_000_000;
    const slept: number[] = [];
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        slept.push(ms);
        now += ms;
      },
    };
    const { ch, fake } = channel({ perChatIntervalMs: 2000, globalPerMinute: 3, clock });
    await ch.connect(sink());
    await ch.send(`wa:${GROUP}`, 'one', { idemKey: '1' });
    await ch.send(`wa:${GROUP}`, 'two', { idemKey: '2' });
    expect(slept).toEqual([2000]);
    await ch.send('wa:4917000000002@s.whatsapp.net', 'three', { idemKey: '3' });
    expect(slept).toEqual([2000]);
    await ch.send('wa:4917000000003@s.whatsapp.net', 'four', { idemKey: '4' });
    // The fourth send in a minute waits until the first leaves the window.
    expect(slept).toEqual([2000, 58_000]);
    expect(fake.latest().sent).toHaveLength(4);
    await ch.disconnect();
  });

  it('refuses a send while disconnected with a retry hint', async () => {
    const { ch } = channel({ connectWaitMs: 10 }, false);
    await ch.connect(sink());
    await expect(ch.send(`wa:${GROUP}`, 'x', { idemKey: 'z' })).rejects.toMatchObject({
      opts: { retryAfterMs: 5000 },
    });
    await expect(ch.send('tg:1', 'x', { idemKey: 'y' })).rejects.toMatchObject({
      opts: { permanent: true },
    });
    await ch.disconnect();
  });
});
