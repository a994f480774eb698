import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';
import { ownerChat } from './owner-chat.js';

let store: Store;
let seq = 0;
const write = (chatId: string, sender: string) =>
  store.messages.insert({ chatId, platformId: `m${++seq}`, sender, text: 'hi', ts: seq });
const owners = ['tg:42', 'slack:U1'];

beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

describe('ownerChat (where the owner is told things)', () => {
  it('is null without a main group or chat', () => {
    expect(ownerChat(store, owners)).toBeNull();
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    expect(ownerChat(store, owners)).toBeNull();
  });

  it("is main's web chat only when main has no other chat", () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    store.groups.bind('web:main', 'main', 1);
    expect(ownerChat(store, owners)).toBe('web:main');
  });

  it('prefers a chat that reaches the owner over the web chat bound first, before they wrote', () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    store.groups.bind('web:main', 'main', 1);
    store.groups.bind('tg:42', 'main', 2);
    store.groups.bind('slack:D9', 'main', 3);
    write('web:main', 'owner');
    expect(ownerChat(store, owners)).toBe('tg:42');
  });

  it('follows the owner to the chat they wrote in last; others writing there do not count', () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    for (const c of ['web:main', 'tg:42', 'slack:D9']) store.groups.bind(c, 'main', 1);
    write('slack:D9', 'slack:U1');
    expect(ownerChat(store, owners)).toBe('slack:D9');
    write('tg:42', 'tg:42');
    expect(ownerChat(store, owners)).toBe('tg:42');
    write('slack:D9', 'slack:U7'); // not the owner
    write('web:main', 'owner'); // the web chat pushes nothing
    expect(ownerChat(store, owners)).toBe('tg:42');
  });
});
