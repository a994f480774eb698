import { DiscordAPIError, HTTPError, RateLimitError, type REST } from 'discord.js';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../logging/logger.js';
import { DeliveryError } from '../channel.js';
import { RateLimiter } from '../rate-limiter.js';
import { channelIdOf, DiscordPoster, nonceFor } from './outbound.js';

const apiError = (status: number, code: number, errors?: object) =>
  new DiscordAPIError({ message: 'nope', code, errors } as never, code, status, 'POST', '/x', {});

function poster(post: (route: string, opts: { body: Record<string, unknown> }) => unknown) {
  let now = 1_000;
  const rest = {
    post: vi.fn(async (r: string, o: { body: Record<string, unknown> }) => post(r, o)),
  };
  const limiter = new RateLimiter({
    perChatIntervalMs: 0,
    globalPerMinute: 0,
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
  });
  const p = new DiscordPoster({ rest: rest as unknown as REST, limiter, log: silentLogger() });
  return { p, rest, clock: () => now };
}

const caught = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    return err as DeliveryError;
  }
  throw new Error('expected a rejection');
};

describe('nonceFor / channelIdOf', () => {
  it('derives a stable 25-character nonce per idempotency key', () => {
    expect(nonceFor('run:1:0#2')).toBe(nonceFor('run:1:0#2'));
    expect(nonceFor('run:1:0#2')).toHaveLength(25);
    expect(nonceFor('run:1:0#2')).not.toBe(nonceFor('run:1:0#3'));
  });

  it('accepts only numeric channel ids', () => {
    expect(channelIdOf('discord:123')).toBe('123');
    expect(channelIdOf('discord:123/456')).toBe('456');
    expect(() => channelIdOf('discord:../x')).toThrow(DeliveryError);
    expect(() => channelIdOf('discord:1/2/3')).toThrow(DeliveryError);
  });
});

describe('DiscordPoster', () => {
  it('posts formatted text with the nonce, no mass mentions, and a reply reference', async () => {
    const { p, rest } = poster(() => ({ id: '42' }));
    expect(await p.post('discord:7', '__hi__', { idemKey: 'k', replyTo: '99', thread: true })).toBe(
      '42',
    );
    expect(rest.post).toHaveBeenCalledWith('/channels/7/messages', {
      body: {
        content: '**hi**',
        nonce: nonceFor('k'),
        enforce_nonce: true,
        allowed_mentions: { parse: ['users'], replied_user: false },
        message_reference: { message_id: '99', fail_if_not_exists: false },
      },
      files: undefined,
    });
  });

  it('references the message answered only when the group asks for it', async () => {
    const { p, rest } = poster(() => ({ id: '44' }));
    await p.post('discord:7', 'plain', { idemKey: 'k2', replyTo: '99' });
    expect(rest.post.mock.calls[0]![1].body.message_reference).toBeUndefined();
  });

  it('resends plain when Discord rejects the content, and gives up for good on a second 400', async () => {
    const { p, rest } = poster((_r, { body }) => {
      if (String(body.content).includes('**')) throw apiError(400, 50035, { content: {} });
      return { id: '43' };
    });
    expect(await p.post('discord:7', '**bold**', { idemKey: 'k' })).toBe('43');
    expect(rest.post.mock.calls.map((c) => c[1].body.content)).toEqual(['**bold**', 'bold']);

    const always = poster(() => {
      throw apiError(400, 50035, { content: {} });
    });
    const err = await caught(always.p.post('discord:7', '**bold**', { idemKey: 'k' }));
    expect(err.opts.permanent).toBe(true);
    expect(always.rest.post).toHaveBeenCalledTimes(2);
  });

  it('sends plain right away when the formatted text would pass the limit', async () => {
    const { p, rest } = poster(() => ({ id: '44' }));
    await p.post('discord:7', `${'a || '.repeat(399)}a`, { idemKey: 'k' });
    expect(rest.post.mock.calls[0]![1].body.content).toBe(`${'a || '.repeat(399)}a`);
  });

  it('maps access errors to permanent failures and server errors to retries', async () => {
    const denied = poster(() => {
      throw apiError(403, 50013);
    });
    expect((await caught(denied.p.post('discord:7', 'x', { idemKey: 'k' }))).opts.permanent).toBe(
      true,
    );
    const down = poster(() => {
      throw new HTTPError(502, 'Bad Gateway', 'POST', '/x', {});
    });
    expect((await caught(down.p.post('discord:7', 'x', { idemKey: 'k' }))).opts).toEqual({});
  });

  it('a 429 becomes retryAfterMs and pauses that chat (only) in the limiter', async () => {
    let limited = true;
    const { p, rest, clock } = poster(() => {
      if (limited) {
        limited = false;
        throw new RateLimitError({ retryAfter: 1050, global: false } as never);
      }
      return { id: '45' };
    });
    const start = clock();
    expect((await caught(p.post('discord:7', 'one', { idemKey: 'a' }))).opts).toEqual({
      retryAfterMs: 1050,
    });
    expect(await p.post('discord:8', 'elsewhere', { idemKey: 'c' })).toBe('45');
    expect(clock()).toBe(start); // another chat goes at once
    expect(await p.post('discord:7', 'one', { idemKey: 'a' })).toBe('45');
    expect(clock()).toBe(start + 1050); // this one waited out the pause
    expect(rest.post).toHaveBeenCalledTimes(3);
  });

  it('posts into the thread of a thread chat id', async () => {
    const { p, rest } = poster(() => ({ id: '47' }));
    await p.post('discord:7/9', 'hi', { idemKey: 'k' });
    expect(rest.post.mock.calls[0]![0]).toBe('/channels/9/messages');
  });

  it('a file that cannot be read fails for good', async () => {
    const { p } = poster(() => ({ id: '46' }));
    const err = await caught(
      p.post('discord:7', 'x', { idemKey: 'k', files: [{ path: '/nonexistent/f', name: 'f' }] }),
    );
    expect(err.opts.permanent).toBe(true);
  });
});
