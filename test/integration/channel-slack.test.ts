import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlackChannel } from '../../src/channels/slack/adapter.js';
import type { Daemon } from '../../src/daemon.js';
import { chunkText } from '../../src/delivery/chunk.js';
import { Store } from '../../src/store/store.js';
import { FakeSlack } from '../fakes/slack-server.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.users.set('U1', 'Alice');
  fake.users.set('U2', 'Bob');
  fake.conversations.set('C1', { name: 'general' });
  fake.conversations.set('C9', { name: 'random' });
  fake.conversations.set('D1', { is_im: true, user: 'U1' });
});
afterAll(async () => {
  await fake.close();
});

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

function slackHome(extra = '', block = 'appToken: env:SLACK_APP_TOKEN') {
  const home = tempHome(
    `attachments: { maxBytes: 4096 }\nchannels:\n  slack: { botToken: env:SLACK_BOT_TOKEN, ${block}, apiUrl: "${fake.apiUrl}", perChatIntervalMs: 0, reconnectDelayMs: 50 }\n${extra}`,
  );
  writeFileSync(
    join(home, '.env'),
    `SLACK_BOT_TOKEN=${fake.botToken}\nSLACK_APP_TOKEN=${fake.appToken}\nSLACK_SIGNING_SECRET=shh\n`,
  );
  return home;
}

let answer = 'ok';
async function boot(home = slackHome()) {
  const runner = scriptedLauncher(() => reply(answer));
  const d = await startDaemon(home, [runner]);
  daemons.push(d);
  return { d, runner, home, slack: d.channels.forChat('slack:C1') as SlackChannel };
}

const outIn = (d: Daemon, chat: string) =>
  nextMessage(d, (m) => m.direction === 'out' && m.chatId === chat);

function event(channel: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'message',
    channel,
    channel_type: channel.startsWith('D') ? 'im' : 'channel',
    user: 'U1',
    text,
    ts: fake.nextTs(),
    ...extra,
  };
}

describe('Slack channel (Socket Mode against a fake Slack)', () => {
  it('stores every message, wakes on a mention, ignores its own echo, keeps unbound chats discoverable', async () => {
    answer = 'Hello *there* & welcome';
    const { d, runner } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'] });

    await fake.sendEvent(event('C1', 'just chatting, no trigger')).acked;
    expect(d.store.messages.listChat('slack:C1', 0)).toHaveLength(1);
    expect(runner.inputs).toHaveLength(0);

    const posts = fake.posts.length;
    const out = outIn(d, 'slack:C1');
    await fake.sendEvent(event('C1', '<@UBOT> what is up?', { user: 'U2' })).acked;
    await out;
    expect(runner.inputs).toHaveLength(1);
    const prompt = runner.inputs[0]!.prompt;
    expect(prompt).toContain('just chatting');
    expect(prompt).toContain('sender="Bob"');
    expect(prompt).toContain('@Andy what is up?');
    const post = fake.posts[posts]!;
    expect(post).toMatchObject({
      channel: 'C1',
      text: 'Hello _there_ &amp; welcome',
      mrkdwn: true,
    });
    expect(post.thread_ts).toBeUndefined();
    expect(post.metadata?.event_type).toBe('clawpod_reply');

    await fake.echoes.at(-1)!.acked; // Slack's copy of our own post: acknowledged, not stored
    const inbound = d.store.messages.listChat('slack:C1', 0).filter((m) => m.direction === 'in');
    expect(inbound.map((m) => m.sender)).toEqual(['slack:U1', 'slack:U2']);

    await fake.sendEvent(event('C9', '<@UBOT> anyone here?')).acked;
    expect(d.store.chats.list().find((c) => c.jid === 'slack:C9')).toMatchObject({
      name: '#random',
      kind: 'group',
      group: null,
    });
    expect(runner.inputs).toHaveLength(1);

    const health = d.status().channels.find((c) => c.name === 'slack');
    expect(health).toMatchObject({ connected: true, lastError: null });
    expect(health!.lastEventAt).toBeGreaterThan(0);
  });

  it('answers in the thread of the message it answers when the group asks for it', async () => {
    answer = 'threaded';
    const { d } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'], threadReplies: true });
    const out = outIn(d, 'slack:C1');
    const posts = fake.posts.length;
    const asked = event('C1', '<@UBOT> put it in a thread', { user: 'U2' });
    await fake.sendEvent(asked).acked;
    await out;
    expect(fake.posts[posts]).toMatchObject({ channel: 'C1', thread_ts: asked.ts });
  });

  it('answers in the thread a message came from, and a DM without a trigger', async () => {
    answer = 'in thread';
    const { d, runner } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'] });
    d.groups.add({ name: 'dm', chats: ['slack:D1'] });
    const parent = fake.seed('C1', { user: 'U2', text: 'Proposal: move the standup to 10am' });
    const thread = `slack:C1/${parent.ts}`;
    const inThread = outIn(d, thread);
    await fake.sendEvent(event('C1', '@Andy thoughts?', { thread_ts: parent.ts })).acked;
    await inThread;
    expect(fake.posts.at(-1)).toMatchObject({
      channel: 'C1',
      thread_ts: parent.ts,
      text: 'in thread',
    });
    const stored = d.store.messages.listChat(thread, 0)[0]!;
    expect(stored).toMatchObject({ replyTo: parent.ts, senderName: 'Alice' });
    expect(stored.text).toContain('in thread of Bob: "Proposal: move the standup to 10am"');

    answer = 'dm answer';
    const dm = outIn(d, 'slack:D1');
    await fake.sendEvent(event('D1', 'hello there')).acked;
    await dm;
    expect(runner.inputs).toHaveLength(2);
    expect(fake.posts.at(-1)).toMatchObject({ channel: 'D1', text: 'dm answer' });
    expect(d.store.chats.list().find((c) => c.jid === 'slack:D1')).toMatchObject({
      kind: 'direct',
      name: 'DM with Alice',
    });
  });

  it('splits a 45,000-character reply in order; resends plain text when formatting is refused', async () => {
    const para = (i: number) =>
      `Paragraph ${i}: ` + 'lorem ipsum dolor sit amet '.repeat(30).trim();
    answer = Array.from({ length: 55 }, (_, i) => para(i)).join('\n\n');
    expect(answer.length).toBeGreaterThan(45_000);
    const pieces = chunkText(answer, 3900).length;
    expect(pieces).toBe(14); // four ~820-character paragraphs per message
    const { d } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'], requiresTrigger: false });
    const before = fake.posts.length;
    await fake.sendEvent(event('C1', 'write a lot')).acked;
    await fake.waitForPosts(before + pieces);
    const long = fake.posts.slice(before);
    expect(long).toHaveLength(pieces);
    for (const p of long) expect(p.text.length).toBeLessThanOrEqual(3900);
    expect(long.map((p) => p.text).join('\n\n')).toBe(answer);

    answer = '**Bold** claim & <tag>';
    fake.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const out = nextMessage(d, (m) => m.direction === 'out' && m.text === answer);
    await fake.sendEvent(event('C1', 'format it')).acked;
    await out;
    const tries = fake.calls.filter((c) => c.method === 'chat.postMessage').slice(-2);
    expect(tries.map((c) => [c.args.text, c.args.mrkdwn])).toEqual([
      ['*Bold* claim &amp; &lt;tag&gt;', 'true'],
      ['**Bold** claim &amp; &lt;tag&gt;', 'false'],
    ]);
    expect(fake.posts.at(-1)).toMatchObject({
      mrkdwn: false,
      text: '**Bold** claim &amp; &lt;tag&gt;',
    });
  });

  it('waits out a 429 and posts once', async () => {
    answer = 'after the limit';
    const { d } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'], requiresTrigger: false });
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const before = fake.posts.length;
    const calls = fake.calls.length;
    const out = outIn(d, 'slack:C1');
    await fake.sendEvent(event('C1', 'go')).acked;
    await out;
    const posts = fake.calls.slice(calls).filter((c) => c.method === 'chat.postMessage');
    expect(posts).toHaveLength(2);
    expect(fake.posts.length - before).toBe(1);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950); // Retry-After: 1 s
    const deliveries = d.store.messages
      .listChat('slack:C1', 0)
      .filter((m) => m.direction === 'out' && m.text === 'after the limit');
    expect(deliveries).toHaveLength(1);
  });

  it('after a crash between posting and recording, finds the post instead of posting twice', async () => {
    const home = slackHome();
    const store = Store.open(join(home, 'clawpod.db'));
    for (const key of ['cut-1', 'cut-2']) {
      store.outbox.enqueue({ idemKey: key, chatId: 'slack:C1', text: `half sent ${key}` }, 1);
      store.outbox.markSending(store.outbox.byKey(key)!.id);
    }
    store.close();
    const arrived = fake.seed('C1', {
      user: fake.botUserId,
      bot_id: fake.botId,
      text: 'half sent cut-1',
      metadata: { event_type: 'clawpod_reply', event_payload: { key: 'cut-1' } },
    });
    const before = fake.posts.length;
    let both!: Promise<unknown>;
    const runner = scriptedLauncher(() => reply('x'));
    const d = await startDaemon(home, [runner], (x) => {
      both = Promise.all(
        ['half sent cut-1', 'half sent cut-2'].map((t) => nextMessage(x, (m) => m.text === t)),
      );
    });
    daemons.push(d);
    await both;
    expect(d.store.outbox.byKey('cut-1')).toMatchObject({ status: 'sent', platformId: arrived.ts });
    expect(fake.posts.slice(before).map((p) => p.text)).toEqual(['half sent cut-2']);
  });

  it('downloads attachments before acknowledging, notes oversized ones, uploads outbound files', async () => {
    answer = 'seen';
    const { d, runner, home } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'], requiresTrigger: false });
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    fake.downloadDelayMs = 200;
    const out = outIn(d, 'slack:C1');
    const env = fake.sendEvent(
      event('C1', 'look at this', {
        subtype: 'file_share',
        files: [
          fake.addFile('photo.png', 'image/png', png),
          fake.addFile('huge.bin', 'application/octet-stream', Buffer.alloc(10), 50_000),
        ],
      }),
    );
    await env.acked;
    fake.downloadDelayMs = 0;
    const stored = d.store.messages.listChat('slack:C1', 0);
    expect(stored).toHaveLength(1); // stored before the acknowledgement went out
    await out;
    const prompt = runner.inputs[0]!.prompt;
    const path = /\/workspace\/group\/(attachments\/\S+photo\.png)/.exec(prompt)?.[1];
    expect(path).toBeDefined();
    expect(readFileSync(join(home, 'groups', 'team', path!))).toEqual(png);
    expect(prompt).toContain(
      '[attachment not downloaded: huge.bin (application/octet-stream, 50000 bytes, over the 4096-byte limit)]',
    );

    d.ipc.ensureGroup('team');
    // Sent outside a conversation (no run): the guard asks unless the owner allowed it.
    d.guard.addRule({ group: 'team', kind: 'send_message', pattern: 'slack:C1', effect: 'allow' });
    writeFileSync(join(home, 'groups', 'team', 'report.txt'), 'quarterly numbers');
    writeFileSync(
      join(home, 'ipc', 'team', 'requests', 'f1.json'),
      JSON.stringify({
        id: 'f1',
        op: 'send_message',
        args: { chat: 'slack:C1', text: 'here it is', file: '/workspace/group/report.txt' },
      }),
    );
    const delivered = nextMessage(
      d,
      (m) => m.direction === 'out' && m.text.startsWith('here it is'),
    );
    await d.ipc.scan('team', 'requests');
    await delivered;
    expect(fake.posts.at(-1)).toMatchObject({ channel: 'C1', text: 'here it is' });
    expect(fake.uploads.at(-1)).toMatchObject({ channel: 'C1', filename: 'report.txt' });
    expect(fake.uploads.at(-1)!.data.toString()).toBe('quarterly numbers');
  });

  it('reconnects after the socket drops, without doubling handlers or replies', async () => {
    answer = 'once';
    const { d, runner, slack } = await boot();
    d.groups.add({ name: 'team', chats: ['slack:C1'] });
    const opened = fake.socketsOpened;
    fake.dropSockets(); // a network failure
    await fake.waitForSockets(opened + 1);
    fake.recycle(); // Slack asks for a fresh connection
    await fake.waitForSockets(opened + 2);
    const before = fake.posts.length;
    const out = outIn(d, 'slack:C1');
    const ev = event('C1', '@Andy are you back?');
    await fake.sendEvent(ev).acked;
    await out;
    await fake.sendEvent(ev, { retryAttempt: 1 }).acked; // Slack redelivers: a no-op
    await fake.sendEvent(event('C1', 'trailing message')).acked;
    await fake.echoes.at(-1)!.acked;
    expect(runner.inputs).toHaveLength(1);
    expect(fake.posts.length - before).toBe(1);
    expect(
      d.store.messages.listChat('slack:C1', 0).filter((m) => m.direction === 'in'),
    ).toHaveLength(2);
    expect(slack.connectionState()).toBe('connected');
    expect(d.status().channels.find((c) => c.name === 'slack')?.connected).toBe(true);
  });
});

describe('Slack channel (HTTP Events API)', () => {
  it('checks signatures (bad → 401) and stores signed events before answering', async () => {
    answer = 'over http';
    const home = slackHome('', 'signingSecret: env:SLACK_SIGNING_SECRET, mode: http');
    const { d, runner } = await boot(home);
    d.groups.add({ name: 'team', chats: ['slack:C1'] });
    // The events route on the daemon's own HTTP server (no token: Slack's signature instead).
    const url = `http://127.0.0.1:${d.port}/channels/slack/events`;
    const bad = await fake.postSignedEvent(url, event('C1', '@Andy sneaky'), 'shh', {
      badSignature: true,
    });
    expect(bad.status).toBe(401);
    expect(d.store.messages.listChat('slack:C1', 0)).toHaveLength(0);
    const out = outIn(d, 'slack:C1');
    const ok = await fake.postSignedEvent(url, event('C1', '@Andy hello over http'), 'shh');
    expect(ok.status).toBe(200);
    expect(d.store.messages.listChat('slack:C1', 0)).toHaveLength(1);
    await out;
    expect(runner.inputs).toHaveLength(1);
    expect(fake.posts.at(-1)).toMatchObject({ channel: 'C1', text: 'over http' });
    expect(d.status().channels.find((c) => c.name === 'slack')?.connected).toBe(true);
  });

  /** A POST to the daemon with a chosen Host header, signed like Slack does (or not). */
  function post(
    port: number,
    path: string,
    body: string,
    opts: { host: string; secret?: string },
  ): Promise<{ status: number; text: string }> {
    const ts = Math.floor(Date.now() / 1000).toString();
    const sig = opts.secret
      ? `v0=${createHmac('sha256', opts.secret).update(`v0:${ts}:${body}`).digest('hex')}`
      : undefined;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: {
            host: opts.host,
            'content-type': 'application/json',
            'x-slack-request-timestamp': ts,
            ...(sig ? { 'x-slack-signature': sig } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers URL verification; needs no API token, but only answers the hosts the server does', async () => {
    const home = slackHome('', 'signingSecret: env:SLACK_SIGNING_SECRET, mode: http');
    const config = join(home, 'config.yaml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        'http: { port: 0 }',
        'http: { port: 0, allowedHosts: [bot.example.com] }',
      ),
    );
    const { d } = await boot(home);
    d.groups.add({ name: 'team', chats: ['slack:C1'] });
    const path = '/channels/slack/events';
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'abc123' });
    const proxied = { host: 'bot.example.com', secret: 'shh' };
    const verified = await post(d.port, path, challenge, proxied);
    expect(verified).toEqual({ status: 200, text: JSON.stringify({ challenge: 'abc123' }) });
    expect((await post(d.port, path, challenge, { host: 'bot.example.com' })).status).toBe(401);

    const callback = (text: string) =>
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        event_id: `Ev${fake.nextTs()}`,
        event: event('C1', text),
      });
    // A name the server does not answer (DNS rebinding, a proxy not named): 421, nothing stored.
    const foreign = await post(d.port, path, callback('via a stranger'), {
      host: 'evil.example',
      secret: 'shh',
    });
    expect(foreign.status).toBe(421);
    const stored = () => d.store.messages.listChat('slack:C1', 0).map((m) => m.text);
    expect(stored()).toEqual([]);
    // The proxy's public name, listed in http.allowedHosts: taken, without the API token.
    expect((await post(d.port, path, callback('via the proxy'), proxied)).status).toBe(200);
    expect(stored()).toEqual(['via the proxy']);
    // The API under the same name still wants its token.
    expect((await post(d.port, '/api/messages', '{}', proxied)).status).toBe(401);
  });
});
