import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { TypingKeeper } from './typing.js';

describe('TypingKeeper', () => {
  it('pings at once and every refresh while any run is on, and stops with the last one', async () => {
    const clock = new FakeClock(0);
    const pings: string[] = [];
    const keeper = new TypingKeeper({
      send: async (chat) => void pings.push(chat),
      everyMs: 8000,
      clock,
    });
    keeper.set('discord:1', true);
    keeper.set('discord:1', true); // a second run in the same chat
    expect(pings).toEqual(['discord:1']);
    expect(keeper.isOn('discord:1')).toBe(true);
    await clock.advance(16_000);
    expect(pings).toHaveLength(3);
    keeper.set('discord:1', false);
    await clock.advance(8000);
    expect(pings).toHaveLength(4);
    keeper.set('discord:1', false);
    keeper.set('discord:1', false); // more offs than ons are harmless
    await clock.advance(24_000);
    expect(pings).toHaveLength(4);
    expect(keeper.chats()).toEqual([]);
    expect(keeper.isOn('discord:1')).toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it('reports failures and keeps going', async () => {
    const clock = new FakeClock(0);
    const errors: unknown[] = [];
    const keeper = new TypingKeeper({
      send: async () => {
        throw new Error('429');
      },
      everyMs: 8000,
      onError: (_chat, err) => errors.push(err),
      clock,
    });
    keeper.set('discord:2', true);
    await clock.advance(8000);
    expect(errors).toHaveLength(2);
    keeper.stopAll();
    expect(clock.pending()).toEqual([]);
  });

  it('keeps chats apart, and a chat turned on again starts a fresh cycle', async () => {
    const clock = new FakeClock(0);
    const pings: string[] = [];
    const keeper = new TypingKeeper({
      send: async (c) => void pings.push(c),
      everyMs: 4000,
      clock,
    });
    keeper.set('tg:1', true);
    await clock.advance(2000);
    keeper.set('tg:2', true);
    keeper.set('tg:1', false);
    keeper.set('tg:1', true);
    await clock.advance(4000);
    expect(pings).toEqual(['tg:1', 'tg:2', 'tg:1', 'tg:2', 'tg:1']);
    keeper.stopAll();
    expect(keeper.chats()).toEqual([]);
  });
});
