import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { Store } from './store.js';
import { chatOverviewOf } from './views.js';

let store: Store;
beforeEach(() => {
  store = new Store(openDb(':memory:'));
  store.groups.insert('team', {}, { now: 1 });
});

describe('ChatStore.list (the one chat query)', () => {
  it('lists a chat bound before its first message, seen at its binding time', () => {
    store.groups.bind('tg:9', 'team', 50);
    expect(store.chats.list()).toEqual([
      {
        jid: 'tg:9',
        channel: 'tg',
        name: null,
        kind: 'group',
        firstSeen: 50,
        lastSeen: 50,
        group: 'team',
        lastMessage: null,
      },
    ]);
  });

  it('gives each chat its newest message (a reply too) and orders by it', () => {
    store.chats.touch('tg:1', { name: 'One' }, 100);
    store.messages.insert({
      chatId: 'tg:1',
      platformId: 'a',
      sender: 'tg:7',
      text: 'hi',
      ts: 100,
    });
    store.chats.touch('tg:2', { name: 'Two' }, 200);
    store.messages.insert({
      chatId: 'tg:2',
      platformId: 'b',
      sender: 'tg:8',
      text: 'yo',
      ts: 200,
    });
    // A reply in tg:1 after tg:2's last inbound message makes tg:1 the most recent chat.
    store.messages.insert(
      { chatId: 'tg:1', platformId: 'r', sender: 'bot', text: 'hello', ts: 300 },
      'out',
    );
    const list = store.chats.list();
    expect(list.map((c) => c.jid)).toEqual(['tg:1', 'tg:2']);
    expect(list[0]!.lastMessage).toMatchObject({ direction: 'out', text: 'hello', ts: 300 });
    expect(list[0]!.lastSeen).toBe(100);
    expect(list[1]!.group).toBeNull();
  });
});

describe('chatOverviewOf (the Control UI row)', () => {
  it('shows replies as the assistant, a sender by name, and cuts the text at 200 characters', () => {
    store.chats.touch('tg:1', {}, 10);
    store.messages.insert({
      chatId: 'tg:1',
      platformId: 'a',
      sender: 'tg:7',
      senderName: 'Ann',
      text: 'x'.repeat(300),
      ts: 10,
    });
    store.chats.touch('tg:2', {}, 5);
    store.messages.insert(
      { chatId: 'tg:2', platformId: 'b', sender: 'b', text: 'ok', ts: 5 },
      'out',
    );
    const [ann, reply] = store.chats.list().map(chatOverviewOf);
    expect(ann!.last).toMatchObject({ sender: 'Ann', direction: 'in' });
    expect(ann!.last!.text).toHaveLength(200);
    expect(reply!.last).toMatchObject({ sender: 'assistant', text: 'ok' });
    expect(reply).not.toHaveProperty('firstSeen');
  });
});
