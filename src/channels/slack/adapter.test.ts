import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../../test/fakes/slack-server.js';
import { silentLogger } from '../../logging/logger.js';
import type { Inbound } from '../channel.js';
import { SlackChannel } from './adapter.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.echoOwnPosts = false;
});
afterAll(() => fake.close());

function channel(appToken = fake.appToken) {
  return new SlackChannel(
    {
      mode: 'socket',
      botToken: fake.botToken,
      appToken,
      apiUrl: fake.apiUrl,
      port: 0,
      perChatIntervalMs: 0,
      globalPerMinute: 0,
      reconnectDelayMs: 20,
      assistantName: 'Andy',
      maxAttachmentBytes: 1000,
    },
    silentLogger(),
  );
}
const ev = (channelId: string, text: string, extra: object = {}) => ({
  type: 'message',
  channel: channelId,
  channel_type: 'channel',
  user: 'U1',
  text,
  ts: fake.nextTs(),
  ...extra,
});

describe('SlackChannel over Socket Mode', () => {
  it('acknowledges only stored events; a failed store is left for Slack to redeliver', async () => {
    const got: Inbound[] = [];
    let failing = true;
    const slack = channel();
    await slack.connect({
      receive: async (m) => {
        if (failing && m.text === 'one') throw new Error('disk full');
        got.push(m);
        return { seq: got.length, duplicate: false, wakes: true };
      },
    });
    const first = ev('C1', 'one');
    let firstAcked = false;
    void fake.sendEvent(first).acked.then(() => (firstAcked = true));
    // Another channel's event is handled independently; once it is acked, the first was handled too.
    await fake.sendEvent(ev('C2', 'other')).acked;
    await fake.sendEvent(ev('C1', 'after')).acked; // same channel: after the first, in order
    expect(firstAcked).toBe(false);
    expect(slack.health().lastError).toBe('disk full');
    failing = false;
    await fake.sendEvent(first, { retryAttempt: 1 }).acked;
    expect(got.map((m) => m.text)).toEqual(['other', 'after', 'one']);
    await slack.disconnect();
  });

  it('stores a message and its app_mention twin once', async () => {
    const got: Inbound[] = [];
    const slack = channel();
    await slack.connect({
      receive: async (m) => (got.push(m), { seq: got.length, duplicate: false, wakes: true }),
    });
    const m = ev('C1', '<@UBOT> hi');
    await fake.sendEvent(m).acked;
    await fake.sendEvent({ ...m, type: 'app_mention', channel_type: undefined }).acked;
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ mentioned: true, text: '@Andy hi' });
    await slack.disconnect();
  });

  it('keeps retrying a refused app token with backoff, and stops for good on disconnect', async () => {
    const slack = channel('xapp-revoked');
    await slack.connect({ receive: async () => ({ seq: 1, duplicate: false, wakes: true }) });
    expect(slack.connectionState()).toBe('reconnecting');
    expect(slack.health()).toMatchObject({
      connected: false,
      lastError: expect.stringContaining('invalid_auth'),
    });
    expect(slack.health().lastError).not.toContain('xapp');
    await slack.disconnect();
    expect(slack.connectionState()).toBe('stopped');
    const opened = fake.socketsOpened;
    const ok = channel();
    await ok.connect({ receive: async () => ({ seq: 1, duplicate: false, wakes: true }) });
    expect(fake.socketsOpened).toBe(opened + 1);
    await ok.disconnect();
    fake.dropSockets();
    expect(ok.connectionState()).toBe('stopped');
  });
});
