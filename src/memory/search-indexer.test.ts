import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../events/bus.js';
import { silentLogger } from '../logging/logger.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';
import { FakeClock, flush } from '../../test/support/fake-clock.js';
import { INDEX_DELAY_MS, SearchIndexer } from './search-indexer.js';

const indexers: SearchIndexer[] = [];
afterEach(() => indexers.splice(0).forEach((i) => i.stop()));

function setup() {
  const store = new Store(openDb(':memory:'));
  const bus = new EventBus();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const indexer = new SearchIndexer({ store, bus, log: silentLogger(), clock });
  indexers.push(indexer);
  let n = 0;
  const store1 = (text: string) => {
    const { seq } = store.messages.insert({
      chatId: 'tg:1',
      platformId: `p${++n}`,
      sender: 'u',
      text,
      ts: n,
    });
    bus.emit('message', store.messages.get(seq)!);
  };
  return { store, clock, indexer, store1 };
}

describe('SearchIndexer', () => {
  it('indexes what was stored while it was down at start, then each write after a short delay', async () => {
    const { store, clock, indexer, store1 } = setup();
    store1('before start');
    indexer.start();
    await clock.advance(0);
    expect(store.search.backlog().messages).toBe(0);

    store1('one');
    store1('two'); // joins the catch-up already armed
    expect(clock.pending()).toHaveLength(1);
    await clock.advance(INDEX_DELAY_MS - 1);
    expect(store.search.backlog().messages).toBe(2);
    await clock.advance(1);
    expect(store.search.backlog().messages).toBe(0);
    expect(clock.pending()).toHaveLength(0); // nothing armed while there is nothing to do
  });

  it('works through a large backlog in batches, yielding between them', async () => {
    const { store, clock, indexer, store1 } = setup();
    store.db.transaction(() => {
      for (let i = 0; i < 4500; i++) store1(`bulk ${i}`);
    })();
    indexer.start();
    await clock.advance(0);
    await flush(10);
    expect(store.search.backlog().messages).toBe(0);
  });

  it('stops: a write after stop arms nothing', async () => {
    const { clock, indexer, store1 } = setup();
    indexer.start();
    await clock.advance(0);
    indexer.stop();
    store1('late');
    expect(clock.pending()).toHaveLength(0);
  });
});
