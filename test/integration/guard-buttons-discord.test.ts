/**
 * Approval buttons on Discord, through the real daemon and the real discord.js against the fake
 * Discord (gateway INTERACTION_CREATE, the interaction callback, message PATCH): the card has
 * buttons, a press is answered ephemerally and decided through the guard, a second press is
 * told, and the card loses its buttons.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord, type FakeUser } from '../fakes/discord-server.js';
import { nextMessage, runEnded, startDaemon, tempHome } from '../support/daemon-harness.js';
import { approvalDecided, nextApproval } from '../support/guard-world.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const TOKEN = 'fake-discord-token-0123456789';
const BOT: FakeUser = { id: '900000000000000001', username: 'Andy' };
const GUILD = '800000000000000001';
const GENERAL = '700000000000000001';
const olga: FakeUser = { id: '600000000000000001', username: 'olga', global_name: 'Olga' };
const bob: FakeUser = { id: '600000000000000002', username: 'bob', global_name: 'Bob' };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const replyTo = (fake: FakeDiscord, id: string) =>
  new Promise<{ type: number; data: Record<string, unknown> }>((resolve) => {
    const found = () => fake.interactionReplies.find((r) => r.id === id);
    if (found()) return resolve(found()!);
    const on = (got: string) => {
      if (got !== id) return;
      fake.off('interaction-reply', on);
      resolve(found()!);
    };
    fake.on('interaction-reply', on);
  });

describe('approval buttons on Discord', () => {
  it('the card has buttons; a stranger is refused; the owner decides; a second press is told; the card loses its buttons', async () => {
    const fake = await FakeDiscord.start({
      token: TOKEN,
      bot: BOT,
      guilds: [{ id: GUILD, name: 'Lab', channels: [{ id: GENERAL, type: 0, name: 'general' }] }],
    });
    cleanups.push(() => fake.close());
    const home = tempHome(
      `owner: { ids: ['discord:${olga.id}'] }\n` +
        `channels:\n  discord: { token: env:DISCORD_BOT_TOKEN, apiBase: "${fake.apiBase}", perChatIntervalMs: 20, reconnectDelayMs: 50 }\n`,
    );
    writeFileSync(join(home, '.env'), `DISCORD_BOT_TOKEN=${TOKEN}\n`);
    const runner = scriptedLauncher(() => reply('hello'));
    const d = await startDaemon(home, [runner]);
    cleanups.push(() => d.stop());
    d.groups.add({
      name: 'team',
      chats: [`discord:${GENERAL}`],
      senders: { allow: [`discord:${olga.id}`], others: 'ask' },
    });

    // The owner writes in #general (cards are asked there), then Bob, whom the group does not know.
    const first = runEnded(d);
    fake.userSays({ channelId: GENERAL, author: olga, content: '@Andy hi' });
    await first;
    const asked = nextApproval(d);
    const card = nextMessage(d, (m) => m.direction === 'out' && m.text.includes('Approval #'));
    fake.userSays({ channelId: GENERAL, author: bob, content: '@Andy can I join?' });
    const a = await asked;
    const cardId = (await card).platformId!;
    const posted = fake.messagesIn(GENERAL).find((m) => m.id === cardId)!;
    const buttons = (
      posted.components as Array<{ components: Array<{ label: string; custom_id: string }> }>
    )[0]!.components;
    expect(buttons.map((b) => [b.label, b.custom_id])).toEqual([
      ['Let in once', `approval:${a.id}:once`],
      ['Add to senders', `approval:${a.id}:always`],
      ['Ignore', `approval:${a.id}:deny`],
    ]);

    const press = (user: FakeUser, decision: string) =>
      replyTo(
        fake,
        fake.pressButton({
          channelId: GENERAL,
          messageId: cardId,
          user,
          customId: `approval:${a.id}:${decision}`,
        }),
      );

    // Bob presses: answered (ephemeral), refused.
    const r1 = await press(bob, 'always');
    expect(r1).toMatchObject({
      type: 4,
      data: {
        content: `Only the owner or an approver of group "team" can answer approval #${a.id}.`,
        flags: 64,
      },
    });
    expect(d.store.approvals.get(a.id)!.status).toBe('pending');

    // The owner adds him to the senders: decided, his held message wakes the group.
    const decided = approvalDecided(d, a.id);
    const woke = runEnded(d);
    const edited = fake.next<string>('edit', (id) => id === cardId);
    const r2 = await press(olga, 'always');
    expect(r2.data).toMatchObject({
      content: `✅ Approval #${a.id} was allowed always by discord:${olga.id}.`,
      flags: 64,
    });
    expect(await decided).toMatchObject({ status: 'allowed', decision: 'always' });
    await woke;
    expect(runner.inputs.at(-1)!.prompt).toContain('can I join?');
    expect(d.store.groups.get('team')!.senders!.allow).toContain(`discord:${bob.id}`);

    // A second press is told it was decided.
    const r3 = await press(olga, 'deny');
    expect(r3.data.content).toBe(
      `Already decided: ✅ Approval #${a.id} was allowed always by discord:${olga.id}.`,
    );
    expect(d.store.approvals.get(a.id)!.decision).toBe('always');

    // The card: the decision in place of the buttons.
    await edited;
    const now = fake.messagesIn(GENERAL).find((m) => m.id === cardId)!;
    expect(now.components).toEqual([]);
    expect(now.content).toContain(`allowed always by discord:${olga.id}`);
  });
});
