/**
 * Approval buttons on Slack, through the real daemon and the real Bolt against the fake Slack
 * (Socket Mode `interactive` envelopes and the signed HTTP interactivity POST): the card is
 * posted with Block Kit buttons, a press is acknowledged and decided through the guard, a
 * second press is told it was decided, and the card loses its buttons (chat.update).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { FakeSlack, type FakePost } from '../fakes/slack-server.js';
import { nextMessage, runEnded, startDaemon, tempHome } from '../support/daemon-harness.js';
import { approvalDecided, nextApproval } from '../support/guard-world.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.echoOwnPosts = false;
  fake.users.set('U1', 'Olga');
  fake.users.set('U2', 'Bob');
  fake.conversations.set('C1', { name: 'general' });
});
afterAll(async () => {
  await fake.close();
});
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function boot(mode: 'socket' | 'http') {
  const block =
    mode === 'socket'
      ? 'appToken: env:SLACK_APP_TOKEN'
      : 'signingSecret: env:SLACK_SIGNING_SECRET, mode: http';
  const home = tempHome(
    `owner: { ids: ['slack:U1'] }\nchannels:\n  slack: { botToken: env:SLACK_BOT_TOKEN, ${block}, apiUrl: "${fake.apiUrl}", perChatIntervalMs: 0, reconnectDelayMs: 50 }\n`,
  );
  writeFileSync(
    join(home, '.env'),
    `SLACK_BOT_TOKEN=${fake.botToken}\nSLACK_APP_TOKEN=${fake.appToken}\nSLACK_SIGNING_SECRET=shh\n`,
  );
  const runner = scriptedLauncher(() => reply('hello'));
  const d = await startDaemon(home, [runner]);
  daemons.push(d);
  // Bob is not on the group's senders: his message asks the owner (pairing).
  d.groups.add({
    name: 'team',
    chats: ['slack:C1'],
    senders: { allow: ['slack:U1'], others: 'ask' },
  });
  return { d, runner };
}

const message = (user: string, text: string) => ({
  type: 'message',
  channel: 'C1',
  channel_type: 'channel',
  user,
  text,
  ts: fake.nextTs(),
});

/** Sends an event the way the mode does. */
async function deliver(d: Daemon, mode: 'socket' | 'http', event: Record<string, unknown>) {
  if (mode === 'socket') await fake.sendEvent(event).acked;
  else await fake.postSignedEvent(`http://127.0.0.1:${d.port}/channels/slack/events`, event, 'shh');
}

/** The owner writes in C1 (so cards are asked there), then Bob does: his pairing card. */
async function pairingCard(d: Daemon, mode: 'socket' | 'http') {
  const first = runEnded(d);
  await deliver(d, mode, message('U1', '@Andy hi'));
  await first;
  const asked = nextApproval(d);
  const posted = fake.posts.length;
  const card = nextMessage(d, (m) => m.direction === 'out' && m.text.includes('Approval #'));
  await deliver(d, mode, message('U2', '@Andy can I join?'));
  const a = await asked;
  await card;
  const post = fake.posts.slice(posted).find((p) => p.blocks)!;
  return { a, post };
}

/** The n-th ephemeral message `user` got, once it has been posted (`total`: all users). */
const ephemeralTo = async (user: string, n: number, total: number) => {
  await fake.whenAnswered('chat.postEphemeral', total);
  return fake.ephemerals.filter((e) => e.user === user)[n - 1]!.text;
};

const buttonsOf = (post: FakePost) =>
  (post.blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements as Array<{ action_id: string; text: { text: string } }>) ?? []);

describe('approval buttons on Slack', () => {
  it('Socket Mode: the card has buttons; a stranger is refused; the owner decides; a second press is told; the card loses its buttons', async () => {
    const { d, runner } = await boot('socket');
    const { a, post } = await pairingCard(d, 'socket');
    expect(a).toMatchObject({ kind: 'sender', askedIn: 'slack:C1' });
    expect(buttonsOf(post).map((b) => [b.text.text, b.action_id])).toEqual([
      ['Let in once', `approval:${a.id}:once`],
      ['Add to senders', `approval:${a.id}:always`],
      ['Ignore', `approval:${a.id}:deny`],
    ]);

    // Bob presses on his own pairing: acknowledged, refused in an ephemeral message.
    const e1 = fake.pressButton(post, 'U2', `approval:${a.id}:always`) as { acked: Promise<void> };
    await e1.acked;
    expect(await ephemeralTo('U2', 1, 1)).toBe(
      `Only the owner or an approver of group "team" can answer approval #${a.id}.`,
    );
    expect(d.store.approvals.get(a.id)!.status).toBe('pending');

    // The owner lets him in once: his held message wakes the group.
    const decided = approvalDecided(d, a.id);
    const woke = runEnded(d);
    const e2 = fake.pressButton(post, 'U1', `approval:${a.id}:once`) as { acked: Promise<void> };
    await e2.acked;
    expect(await decided).toMatchObject({ status: 'allowed', decidedBy: 'slack:U1' });
    expect(await ephemeralTo('U1', 1, 2)).toBe(
      `✅ Approval #${a.id} was allowed once by slack:U1.`,
    );
    await woke;
    expect(runner.inputs.at(-1)!.prompt).toContain('can I join?');

    // A second press (a stale client) is told; nothing changes.
    const e3 = fake.pressButton(post, 'U1', `approval:${a.id}:deny`) as { acked: Promise<void> };
    await e3.acked;
    expect(await ephemeralTo('U1', 2, 3)).toBe(
      `Already decided: ✅ Approval #${a.id} was allowed once by slack:U1.`,
    );
    expect(d.store.approvals.get(a.id)).toMatchObject({ status: 'allowed', decision: 'once' });

    // The card was replaced: the decision in its text, no actions block.
    await fake.whenAnswered('chat.update', 1);
    expect(buttonsOf(post)).toEqual([]);
    expect(post.text).toContain(`allowed once by slack:U1`);
  });

  it('HTTP mode: the signed interactivity POST decides; a second press is told', async () => {
    const { d } = await boot('http');
    const { a, post } = await pairingCard(d, 'http');
    const http = { url: `http://127.0.0.1:${d.port}/channels/slack/events`, secret: 'shh' };
    const before = fake.ephemerals.length;
    const decided = approvalDecided(d, a.id);
    const res = await (fake.pressButton(
      post,
      'U1',
      `approval:${a.id}:deny`,
      http,
    ) as Promise<Response>);
    expect(res.status).toBe(200);
    expect(await decided).toMatchObject({ status: 'denied', decidedBy: 'slack:U1' });
    const res2 = await (fake.pressButton(
      post,
      'U1',
      `approval:${a.id}:once`,
      http,
    ) as Promise<Response>);
    expect(res2.status).toBe(200);
    await fake.whenAnswered('chat.postEphemeral', before + 2);
    expect(fake.ephemerals.slice(before).map((e) => e.text)).toEqual([
      `⛔ Approval #${a.id} was denied by slack:U1.`,
      `Already decided: ⛔ Approval #${a.id} was denied by slack:U1.`,
    ]);
    // A forged press (bad signature) is refused before it reaches the guard.
    const forged = await (fake.pressButton(post, 'U1', `approval:${a.id}:once`, {
      ...http,
      secret: 'wrong',
    }) as Promise<Response>);
    expect(forged.status).toBe(401);
  });
});
