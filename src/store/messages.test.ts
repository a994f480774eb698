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
    chatId: 'tg:1',
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
    const a = store.messages.insert(inbound({ chatId: 'tg:1', platformId: 'x' }));
    const b = store.messages.insert(inbound({ chatId: 'tg:2', platformId: 'x' }));
    expect(b.inserted).toBe(true);
    expect(b.seq).not.toBe(a.seq);
    expect(store.messages.count()).toBe(2);
  });

  it('gives each new message a strictly increasing seq', () => {
    const seqs = Array.from(
      { length: 20 },
      (_, i) => store.messages.insert(inbound({ chatId: `tg:${i % 3}` })).seq,
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
      chatId: 'tg:1',
      platformId: 'full',
      direction: 'in',
      sender: 'tg:alice',
      senderName: 'Alice',
      text: 'hi <b>',
      ts: 42,
      replyTo: 'p0',
      isBot: false,
      mentioned: false,
      wakes: false,
      standalone: false,
    });
    expect(store.messages.get(seq + 100)).toBeUndefined();
  });

  it('marks outgoing messages as bot messages', () => {
    const { seq } = store.messages.insert(inbound({ sender: 'bot' }), 'out');
    expect(store.messages.get(seq)).toMatchObject({ direction: 'out', isBot: true });
  });
});

describe('MessageStore.pendingForChat and chat cursors', () => {
  /** Stores as intake does: the message, then its chat's cursor (just below the first one). */
  const take = (over: Partial<InboundMessage> = {}) => {
    const r = store.messages.insert(inbound(over));
    store.cursors.ensure(over.chatId ?? 'tg:1', r.seq);
    return r;
  };

  it('returns the human messages of one chat only, oldest first', () => {
    const a = take({ chatId: 'tg:1', text: 'a' });
    take({ chatId: 'tg:2', text: 'b' });
    const c = take({ chatId: 'tg:1', text: 'c' });
    expect(store.messages.pendingForChat('tg:1').map((m) => m.seq)).toEqual([a.seq, c.seq]);
    expect(store.messages.pendingForChat('tg:2').map((m) => m.text)).toEqual(['b']);
  });

  it('excludes bot-authored, outgoing and excluded messages', () => {
    const human = take({ text: 'human' });
    take({ text: 'echo of the bot', isBot: true });
    store.messages.insert(inbound({ text: 'our reply' }), 'out');
    take({ text: 'outside the allowlist', excluded: true });
    store.db
      .prepare(
        "INSERT INTO messages (chat_jid, platform_id, direction, sender, text, ts, is_bot) VALUES ('tg:1', 'o1', 'out', 'me', 'sent by us', 1, 0)",
      )
      .run();
    expect(store.messages.pendingForChat('tg:1').map((m) => m.seq)).toEqual([human.seq]);
  });

  it('returns only messages after the chat cursor, however many there are', () => {
    const seqs = Array.from({ length: 120 }, () => take().seq);
    store.cursors.advance('tg:1', seqs[9]!);
    expect(store.cursors.get('tg:1')).toBe(seqs[9]);
    expect(store.messages.pendingForChat('tg:1').map((m) => m.seq)).toEqual(seqs.slice(10));
    store.cursors.advance('tg:1', seqs.at(-1)!);
    expect(store.messages.pendingForChat('tg:1')).toEqual([]);
  });

  it('never moves a cursor back', () => {
    take();
    store.cursors.advance('tg:1', 5);
    store.cursors.advance('tg:1', 3);
    store.cursors.advance('tg:1', 0);
    expect(store.cursors.get('tg:1')).toBe(5);
    store.cursors.advance('tg:1', 9);
    expect(store.cursors.get('tg:1')).toBe(9);
  });

  it('keeps each chat on its own cursor: consuming one chat leaves the other pending', () => {
    const a = take({ chatId: 'tg:1', wakes: true });
    const b = take({ chatId: 'tg:2', wakes: true });
    store.cursors.advance('tg:2', b.seq);
    expect(store.messages.pendingForChat('tg:1').map((m) => m.seq)).toEqual([a.seq]);
    expect(store.messages.pendingForChat('tg:2')).toEqual([]);
    expect(store.messages.chatsWithWork()).toEqual(['tg:1']);
  });

  it('lists chats with pending work only when a pending message wakes', () => {
    take({ chatId: 'tg:1', text: 'context only' });
    expect(store.messages.chatsWithWork()).toEqual([]);
    take({ chatId: 'tg:1', text: '@Andy now', wakes: true });
    take({ chatId: 'tg:2', text: 'other', wakes: true });
    expect(store.messages.chatsWithWork()).toEqual(['tg:1', 'tg:2']);
  });

  it('starts a newly bound chat from now: what it said unbound is history', () => {
    take({ chatId: 'tg:9', text: 'before binding', wakes: false });
    store.cursors.skipToLatest('tg:9');
    expect(store.messages.pendingForChat('tg:9')).toEqual([]);
    const after = take({ chatId: 'tg:9', text: 'after' });
    expect(store.messages.pendingForChat('tg:9').map((m) => m.seq)).toEqual([after.seq]);
  });

  it('returns a dead-lettered range again for a replay', () => {
    const a = take();
    const b = take();
    take();
    store.cursors.advance('tg:1', b.seq + 1);
    expect(store.messages.range('tg:1', a.seq, b.seq).map((m) => m.seq)).toEqual([a.seq, b.seq]);
  });
});

describe('MessageStore.listChat', () => {
  it('lists one chat in both directions after a seq, with a limit', () => {
    const a = store.messages.insert(inbound({ chatId: 'web:main', text: 'q' }));
    store.messages.insert(inbound({ chatId: 'web:x', text: 'elsewhere' }));
    const b = store.messages.insert(inbound({ chatId: 'web:main', text: 'answer' }), 'out');
    const c = store.messages.insert(inbound({ chatId: 'web:main', text: 'thanks' }));
    expect(store.messages.listChat('web:main', 0).map((m) => [m.seq, m.direction])).toEqual([
      [a.seq, 'in'],
      [b.seq, 'out'],
      [c.seq, 'in'],
    ]);
    expect(store.messages.listChat('web:main', a.seq).map((m) => m.seq)).toEqual([b.seq, c.seq]);
    expect(store.messages.listChat('web:main', 0, 1).map((m) => m.seq)).toEqual([a.seq]);
  });
});
