import { afterEach, describe, expect, it, vi } from 'vitest';
import { TypingKeeper } from './typing.js';

afterEach(() => vi.useRealTimers());

describe('TypingKeeper', () => {
  it('pings at once and every refresh while any run is on, and stops with the last one', async () => {
    vi.useFakeTimers();
    const pings: string[] = [];
    const keeper = new TypingKeeper(
      async (chat) => void pings.push(chat),
      () => undefined,
      8000,
    );
    keeper.set('discord:1', true);
    keeper.set('discord:1', true); // a second run in the same chat
    expect(pings).toEqual(['discord:1']);
    await vi.advanceTimersByTimeAsync(16_000);
    expect(pings).toHaveLength(3);
    keeper.set('discord:1', false);
    await vi.advanceTimersByTimeAsync(8000);
    expect(pings).toHaveLength(4);
    keeper.set('discord:1', false);
    keeper.set('discord:1', false); // more offs than ons are harmless
    await vi.advanceTimersByTimeAsync(24_000);
    expect(pings).toHaveLength(4);
    expect(keeper.chats()).toEqual([]);
  });

  it('reports failures and keeps going', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const keeper = new TypingKeeper(
      async () => {
        throw new Error('429');
      },
      (_chat, err) => errors.push(err),
      8000,
    );
    keeper.set('discord:2', true);
    await vi.advanceTimersByTimeAsync(8000);
    expect(errors).toHaveLength(2);
    keeper.stopAll();
  });
});
