import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { chatToken, groupToken } from './search.js';
import { Store } from './store.js';

let store: Store;
let n = 0;
const say = (chat: string, text: string) =>
  store.messages.insert({ chatId: chat, platformId: `p${++n}`, sender: 'u', text, ts: n }).seq;
const find = (match: string) =>
  store.search.messages(match, { includeExcluded: true, limit: 100 }).map((m) => m.seq);
const mark = () =>
  store.db
    .prepare("SELECT indexed_through FROM search_index_state WHERE source = 'messages'")
    .pluck()
    .get() as number;
/** FTS5's own check that the index matches its content (throws when corrupt). */
const integrity = () => {
  store.db
    .prepare("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    .run();
  store.db
    .prepare(
      "INSERT INTO run_transcripts_fts(run_transcripts_fts, rank) VALUES ('integrity-check', 1)",
    )
    .run();
};

beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

describe('SearchStore.catchUp', () => {
  it('indexes rows past the mark in batches, moving the mark with them', () => {
    const seqs = [1, 2, 3, 4, 5].map((i) => say('tg:1', `word${i} common`));
    expect(store.search.backlog()).toEqual({ messages: 5, transcripts: 0 });
    expect(find('"common"')).toEqual([]); // stored, not yet indexed
    expect(store.search.catchUp({ batch: 2, maxBatches: 1 })).toBe(2);
    expect(mark()).toBe(seqs[1]);
    expect(find('"common"')).toEqual([seqs[1], seqs[0]]);
    expect(store.search.catchUp({ batch: 2 })).toBe(3);
    expect(mark()).toBe(seqs[4]);
    expect(store.search.backlog().messages).toBe(0);
    expect(store.search.catchUp()).toBe(0);
    integrity();
  });

  it('indexes run transcripts with their group and chat tokens', () => {
    store.runs.start({
      id: 'r1',
      group: 'team',
      kind: 'task',
      chatId: 'tg:1/7',
      seqStart: null,
      seqEnd: null,
      attempt: 1,
      now: 1,
    });
    store.transcripts.recordTurn('r1', { prompt: 'water the plants', replies: ['done'], at: 5 });
    expect(store.search.catchUp()).toBe(2);
    const t = (m: string) =>
      store.search.transcripts(m, { includeExcluded: false, limit: 10 }).map((x) => x.role);
    expect(t(`scope : "${groupToken('team')}" AND text : "plants"`)).toEqual(['prompt']);
    expect(t(`scope : "${chatToken('tg:1')}" AND text : "plants"`)).toEqual(['prompt']);
    expect(t(`scope : "${groupToken('other')}" AND text : "plants"`)).toEqual([]);
    integrity();
  });

  it('scope tokens tell chats apart exactly (web:main is not web:main-2)', () => {
    const a = say('web:main', 'hello');
    const b = say('web:main-2', 'hello');
    const c = say('web:main/thread', 'hello');
    store.search.catchUp();
    expect(find(`scope : "${chatToken('web:main')}"`)).toEqual([c, a]);
    expect(find(`scope : "${chatToken('web:main-2')}"`)).toEqual([b]);
  });

  it('follows a deleted or rewritten message, indexed or not, without corrupting the index', () => {
    const a = say('tg:1', 'alpha');
    const b = say('tg:1', 'beta');
    store.search.catchUp();
    const c = say('tg:1', 'gamma'); // not indexed yet
    store.db.prepare('DELETE FROM messages WHERE seq IN (?, ?)').run(a, c);
    store.db.prepare("UPDATE messages SET text = 'delta' WHERE seq = ?").run(b);
    store.search.catchUp();
    expect(find('"alpha" OR "beta" OR "gamma"')).toEqual([]);
    expect(find('"delta"')).toEqual([b]);
    integrity();
  });

  it('a wakes update (the router decides later) does not touch the index', () => {
    const a = say('tg:1', 'ping');
    store.search.catchUp();
    store.messages.setWakes(a, true);
    integrity();
    expect(find('"ping"')).toEqual([a]);
  });
});
