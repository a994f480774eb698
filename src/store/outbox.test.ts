import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { Store } from './store.js';

let store: Store;
beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

const reply = (idemKey: string, text = `reply ${idemKey}`) => ({ idemKey, chatId: 'tg:1', text });
const rowCount = () => store.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;

describe('OutboxStore', () => {
  it('stores the same idempotency key once', () => {
    expect(store.outbox.enqueue(reply('run:1:0', 'first'), 100)).toBe(true);
    expect(store.outbox.enqueue(reply('run:1:0', 'second'), 200)).toBe(false);
    expect(rowCount()).toBe(1);
    expect(store.outbox.byKey('run:1:0')).toMatchObject({
      text: 'first',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: 100,
      createdAt: 100,
    });
  });

  it('does not re-enqueue a key that was already sent', () => {
    store.outbox.enqueue(reply('k'), 100);
    const id = store.outbox.byKey('k')!.id;
    store.outbox.markSending(id);
    store.outbox.markSent(id, 'tg-msg-9', 110);
    expect(store.outbox.enqueue(reply('k'), 120)).toBe(false);
    expect(store.outbox.get(id)).toMatchObject({ status: 'sent', platformId: 'tg-msg-9' });
    expect(store.outbox.undelivered(10)).toEqual([]);
  });

  it('lists undelivered items oldest first, up to a limit; sent and dead ones are done', () => {
    store.outbox.enqueue(reply('a'), 100);
    store.outbox.enqueue(reply('b'), 50);
    store.outbox.enqueue(reply('c'), 300);
    expect(store.outbox.undelivered(10).map((i) => i.idemKey)).toEqual(['a', 'b', 'c']);
    expect(store.outbox.undelivered(2).map((i) => i.idemKey)).toEqual(['a', 'b']);
    store.outbox.markSent(store.outbox.byKey('a')!.id, 'x', 60);
    store.outbox.markDead(store.outbox.byKey('c')!.id, 'gone');
    expect(store.outbox.undelivered(10).map((i) => i.idemKey)).toEqual(['b']);
  });

  it('counts attempts and reschedules a failed send', () => {
    store.outbox.enqueue(reply('a'), 100);
    const { id } = store.outbox.byKey('a')!;
    store.outbox.markSending(id);
    expect(store.outbox.get(id)).toMatchObject({ status: 'sending', attempts: 1 });
    // A crash mid-send leaves it `sending`; it is still due so a restart retries it.
    expect(store.outbox.undelivered(10).map((i) => i.id)).toEqual([id]);

    store.outbox.markRetry(id, 'HTTP 502', 5_100);
    expect(store.outbox.get(id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      error: 'HTTP 502',
      nextAttemptAt: 5_100,
    });
    expect(store.outbox.undelivered(10)).toEqual([
      expect.objectContaining({ id, nextAttemptAt: 5_100, status: 'pending' }),
    ]);

    store.outbox.markSending(id);
    expect(store.outbox.get(id)!.attempts).toBe(2);
  });

  it('takes a dead item out of delivery for good', () => {
    store.outbox.enqueue(reply('a'), 100);
    const { id } = store.outbox.byKey('a')!;
    store.outbox.markDead(id, 'chat not found');
    expect(store.outbox.get(id)).toMatchObject({ status: 'dead', error: 'chat not found' });
    expect(store.outbox.undelivered(10)).toEqual([]);
    expect(store.outbox.countByStatus()).toEqual({ pending: 0, sending: 0, sent: 0, dead: 1 });
  });

  it('clears the error when a retried send succeeds', () => {
    store.outbox.enqueue(reply('a'), 100);
    const { id } = store.outbox.byKey('a')!;
    store.outbox.markRetry(id, 'timeout', 200);
    store.outbox.markSent(id, 'p1', 250);
    expect(store.outbox.get(id)).toMatchObject({ status: 'sent', error: null, platformId: 'p1' });
    expect(store.outbox.countByStatus()).toEqual({ pending: 0, sending: 0, sent: 1, dead: 0 });
  });
});
