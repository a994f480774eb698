import { describe, expect, it } from 'vitest';
import { RateLimiter, type LimiterClock } from './rate-limiter.js';

/** A fake clock whose sleeps advance time at once and record how long they waited. */
function fakeClock(): LimiterClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe('RateLimiter', () => {
  it('spaces sends to one chat and lets other chats through', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter({ perChatIntervalMs: 1000, globalPerMinute: 0, clock });
    await rl.acquire('a');
    await rl.acquire('b');
    expect(clock.t).toBe(0);
    await rl.acquire('a');
    expect(clock.t).toBe(1000);
  });

  it('caps sends per minute across chats', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter({ perChatIntervalMs: 0, globalPerMinute: 3, clock });
    for (const c of ['a', 'b', 'c']) await rl.acquire(c);
    expect(clock.t).toBe(0);
    await rl.acquire('d');
    expect(clock.t).toBe(60_000);
  });

  it('honours retry-after for one chat or the whole channel', async () => {
    const clock = fakeClock();
    const rl = new RateLimiter({ perChatIntervalMs: 0, globalPerMinute: 0, clock });
    rl.pause(5000, 'a');
    await rl.acquire('b');
    expect(clock.t).toBe(0);
    await rl.acquire('a');
    expect(clock.t).toBe(5000);
    rl.pause(2000);
    await rl.acquire('b');
    expect(clock.t).toBe(7000);
  });
});
