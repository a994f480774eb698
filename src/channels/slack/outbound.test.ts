import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { FakeSlack } from '../../../test/fakes/slack-server.js';
import { silentLogger } from '../../logging/logger.js';
import { DeliveryError } from '../channel.js';
import { RateLimiter } from '../rate-limiter.js';
import { slackLogger } from './log.js';
import { SlackPoster } from './outbound.js';

let fake: FakeSlack;
let poster: SlackPoster;
beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.echoOwnPosts = false;
  const api = new webApi.WebClient(fake.botToken, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: slackLogger(silentLogger()),
  });
  const limiter = new RateLimiter({ perChatIntervalMs: 0, globalPerMinute: 0 });
  const me = { botUserId: fake.botUserId, botId: fake.botId };
  poster = new SlackPoster(api, limiter, () => me, silentLogger());
});
afterAll(() => fake.close());

describe('SlackPoster (real Web API client against the fake)', () => {
  it('posts in a thread with the key in metadata; findSent finds it there', async () => {
    const target = { channel: 'C5', threadTs: fake.seed('C5', { user: 'U1', text: 'parent' }).ts };
    const { platformId } = await poster.send(target, 'hi *there*', 'k-thread');
    expect(fake.posts.at(-1)).toMatchObject({ thread_ts: target.threadTs, text: 'hi _there_' });
    expect(await poster.findSent(target, 'k-thread')).toBe(platformId);
    expect(await poster.findSent(target, 'k-other')).toBeUndefined();
    expect(await poster.findSent({ channel: 'C5' }, 'k-thread')).toBeUndefined(); // not top level
  });

  it('a lost answer makes the retry look before posting again', async () => {
    fake.failNext('chat.postMessage', { lose: true });
    const before = fake.posts.length;
    const err = await poster
      .send({ channel: 'C6' }, 'only once', 'k-lost')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).opts.permanent).toBeFalsy();
    expect(fake.posts.length - before).toBe(1); // it did arrive
    const { platformId } = await poster.send({ channel: 'C6' }, 'only once', 'k-lost');
    expect(platformId).toBe(fake.posts.at(-1)!.ts);
    expect(fake.posts.length - before).toBe(1);
  });

  it('drops refused metadata, and gives up at once on hopeless errors', async () => {
    fake.failNext('chat.postMessage', { error: 'invalid_metadata_format' });
    await poster.send({ channel: 'C7' }, 'no metadata', 'k-meta');
    expect(fake.posts.at(-1)).toMatchObject({ text: 'no metadata' });
    expect(fake.posts.at(-1)!.metadata).toBeUndefined();

    fake.failNext('chat.postMessage', { error: 'channel_not_found' });
    const gone = await poster.send({ channel: 'C404' }, 'x', 'k-gone').catch((e: unknown) => e);
    expect(gone).toMatchObject({ opts: { permanent: true } });
    fake.failNext('chat.postMessage', { error: 'internal_error' });
    const flaky = await poster.send({ channel: 'C7' }, 'x', 'k-flaky').catch((e: unknown) => e);
    expect(flaky).toMatchObject({ opts: { permanent: false } });
  });

  it('a 429 becomes retryAfterMs', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 2 });
    const err = await poster.send({ channel: 'C8' }, 'x', 'k-429').catch((e: unknown) => e);
    expect(err).toMatchObject({ opts: { retryAfterMs: 2000 } });
  });
});
