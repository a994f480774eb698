import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import type { InboundMessage } from './messages.js';
import { Store } from './store.js';

let store: Store;
beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

let n = 0;
function inbound(over: Partial<InboundMessage> = {}): InboundMessage {
  n++;
  return {
    chatJid: 'tg:1',
    platformId: `p${n}`,
    sender: 'tg:alice',
    text: `text ${n}`,
    ts: 1_000 + n,
    ...over,
  };
}

describe('MessageStore.insert', () => {
  it('stores a message once per chat and platform id', () => {
    const msg = inbound({ platformId: 'dup', text: 'first' });
    const a = store.messages.insert(msg);
    const b = store.messages.insert({ ...msg, text: 'redelivered' });
    expect(a.inserted).toBe(true);
    expect(b).toEqual({ seq: a.seq, inserted: false });
    expect(store.messages.count()).toBe(1);
    // The first copy is kept as it was.
    expect(store.messages.get(a.seq)?.text).toBe('first');
  });

  it('treats the same platform id in another chat as another message', () => {
    const a = store.messages.insert(inbound({ chatJid: 'tg:1', platformId: 'x' }));
    const b = store.messages.insert(inbound({ chatJid: 'tg:2', platformId: 'x' }));
    expect(b.inserted).toBe(true);
    expect(b.seq).not.toBe(a.seq);
    expect(store.messages.count()).toBe(2);
  });

  it('gives each new message a strictly increasing seq', () => {
    const seqs = Array.from(
      { length: 20 },
      (_, i) => store.messages.insert(inbound({ chatJid: `tg:${i % 3}` })).seq,
    );
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  });

  it('gives the message after a duplicate a new, higher seq (gaps are allowed)', () => {
    const a = store.messages.insert(inbound({ platformId: 'same' }));
    store.messages.insert(inbound({ platformId: 'same' }));
    const c = store.messages.insert(inbound());
    expect(c.inserted).toBe(true);
    expect(c.seq).toBeGreaterThan(a.seq);
    expect(store.messages.get(a.seq)?.platformId).toBe('same');
  });

  it('round-trips every field', () => {
    const { seq } = store.messages.insert(
      inbound({ platformId: 'full', senderName: 'Alice', replyTo: 'p0', text: 'hi <b>', ts: 42 }),
    );
    expect(store.messages.get(seq)).toEqual({
      seq,
      chatJid: 'tg:1',
      platformId: 'full',
      direction: 'in',
      sender: 'tg:alice',
      senderName: 'Alice',
      text: 'hi <b>',
      ts: 42,
      replyTo: 'p0',
      isBot: false,
      mentioned: false,
    });
    expect(store.messages.get(seq + 100)).toBeUndefined();
  });

  it('marks outgoing messages as bot messages', () => {
    const { seq } = store.messages.insert(inbound({ sender: 'bot' }), 'out');
    expect(store.messages.get(seq)).toMatchObject({ direction: 'out', isBot: true });
  });
});

describe('MessageStore.pendingForGroup', () => {
  beforeEach(() => {
    store.groups.insert('team', {}, { now: 1 });
    store.groups.insert('other', {}, { now: 1 });
    store.groups.bind('tg:1', 'team', 1);
    store.groups.bind('tg:2', 'team', 1);
    store.groups.bind('tg:3', 'other', 1);
  });

  it('returns human messages from every chat bound to the group, oldest first', () => {
    const a = store.messages.insert(inbound({ chatJid: 'tg:1', text: 'a' }));
    const b = store.messages.insert(inbound({ chatJid: 'tg:2', text: 'b' }));
    const c = store.messages.insert(inbound({ chatJid: 'tg:1', text: 'c' }));
    expect(store.messages.pendingForGroup('team', 0).map((m) => m.seq)).toEqual([
      a.seq,
      b.seq,
      c.seq,
    ]);
  });

  it('excludes bot-authored and outgoing messages', () => {
    const human = store.messages.insert(inbound({ text: 'human' }));
    store.messages.insert(inbound({ text: 'echo of the bot', isBot: true }));
    store.messages.insert(inbound({ text: 'our reply' }), 'out');
    expect(store.messages.pendingForGroup('team', 0).map((m) => m.text)).toEqual(['human']);
    expect(store.messages.pendingForGroup('team', 0)[0]!.seq).toBe(human.seq);
  });

  it('excludes outgoing rows even when they are not flagged as bot messages', () => {
    store.db
      .prepare(
        "INSERT INTO messages (chat_jid, platform_id, direction, sender, text, ts, is_bot) VALUES ('tg:1', 'o1', 'out', 'me', 'sent by us', 1, 0)",
      )
      .run();
    expect(store.messages.pendingForGroup('team', 0)).toEqual([]);
  });

  it('excludes messages of unbound chats and of chats bound to other groups', () => {
    store.messages.insert(inbound({ chatJid: 'tg:3', text: 'other group' }));
    store.messages.insert(inbound({ chatJid: 'tg:99', text: 'unbound' }));
    const mine = store.messages.insert(inbound({ chatJid: 'tg:1', text: 'mine' }));
    expect(store.messages.pendingForGroup('team', 0).map((m) => m.seq)).toEqual([mine.seq]);
    expect(store.messages.pendingForGroup('other', 0).map((m) => m.text)).toEqual(['other group']);
    expect(store.messages.pendingForGroup('nobody', 0)).toEqual([]);
  });

  it('returns only messages after the cursor, however many there are', () => {
    const seqs = Array.from({ length: 120 }, () => store.messages.insert(inbound()).seq);
    store.groups.advanceCursor('team', seqs[9]!);
    const cursor = store.groups.get('team')!.cursorSeq;
    expect(cursor).toBe(seqs[9]);
    const pending = store.messages.pendingForGroup('team', cursor);
    expect(pending.map((m) => m.seq)).toEqual(seqs.slice(10));
    expect(store.messages.pendingForGroup('team', seqs.at(-1)!)).toEqual([]);
  });

  it('follows a chat when it is rebound', () => {
    store.messages.insert(inbound({ chatJid: 'tg:3', text: 'moved' }));
    expect(store.messages.pendingForGroup('team', 0)).toEqual([]);
    store.groups.bind('tg:3', 'team', 2);
    expect(store.messages.pendingForGroup('team', 0).map((m) => m.text)).toEqual(['moved']);
    expect(store.messages.pendingForGroup('other', 0)).toEqual([]);
  });
});

describe('MessageStore.listChat', () => {
  it('lists one chat in both directions after a seq, with a limit', () => {
    const a = store.messages.insert(inbound({ chatJid: 'web:main', text: 'q' }));
    store.messages.insert(inbound({ chatJid: 'web:x', text: 'elsewhere' }));
    const b = store.messages.insert(inbound({ chatJid: 'web:main', text: 'answer' }), 'out');
    const c = store.messages.insert(inbound({ chatJid: 'web:main', text: 'thanks' }));
    expect(store.messages.listChat('web:main', 0).map((m) => [m.seq, m.direction])).toEqual([
      [a.seq, 'in'],
      [b.seq, 'out'],
      [c.seq, 'in'],
    ]);
    expect(store.messages.listChat('web:main', a.seq).map((m) => m.seq)).toEqual([b.seq, c.seq]);
    expect(store.messages.listChat('web:main', 0, 1).map((m) => m.seq)).toEqual([a.seq]);
  });
});
