/**
 * Approval buttons on Telegram, through the real daemon at its defaults and the real grammY
 * against the fake Bot API: the card carries an inline keyboard, a press is a callback query
 * decided through the guard's one answer path, every press is answered, and the card is edited
 * once decided (keyboard gone).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { defaultHome, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { approvalDecided, nextApproval, toolCall } from '../support/guard-world.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const GROUP = -1001234567890;
const owner = { id: 4242, is_bot: false as const, first_name: 'Olga' };
const stranger = { id: 666, is_bot: false as const, first_name: 'Mallory' };
const chat = { id: GROUP, type: 'supergroup' as const, title: 'Home' };

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/**
 * A daemon at defaults whose main group is also bound to a Telegram group where the owner
 * writes; its agent schedules a task every 15 minutes (96 fires a day: asks by default).
 */
async function boot(
  extraYaml = '',
): Promise<{ d: Daemon; fake: FakeTelegram; results: ResponseFile[] }> {
  const fake = await startFakeTelegram();
  stops.push(() => fake.close());
  const home = defaultHome(
    `owner: { ids: ['tg:${owner.id}'] }\n` +
      `channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN, apiRoot: "${fake.apiRoot}" }\n` +
      extraYaml,
  );
  writeFileSync(join(home, '.env'), `TELEGRAM_BOT_TOKEN=${fake.token}\n`);
  const results: ResponseFile[] = [];
  const world: { d?: Daemon } = {};
  const launcher = scriptedLauncher(async ({ spec }) => {
    const r = await toolCall(world.d!, home, 'main', spec.sessionToken, 'schedule_task', {
      schedule: '15m',
      prompt: 'check the oven',
    });
    results.push(r.final ? await r.final : r.first);
    return reply('done');
  });
  const d = (world.d = await startDaemon(home, [launcher]));
  stops.push(() => d.stop());
  d.groups.bind('main', `tg:${GROUP}`);
  return { d, fake, results };
}

/** The owner asks in the Telegram group; resolves with the approval and its card as sent. */
async function askForCard(d: Daemon, fake: FakeTelegram) {
  const asked = nextApproval(d);
  const cardCall = fake.waitForCall((c) => c.method === 'sendMessage' && !!c.params.reply_markup);
  fake.pushMessage({ chat, from: owner, text: '@Andy check the oven every 15 minutes' });
  const a = await asked;
  await cardCall;
  const card = fake.sent.find((m) => m.replyMarkup)!;
  return { a, card };
}

const answerTo = (fake: FakeTelegram, queryId: string) =>
  fake
    .waitForCall(
      (c) => c.method === 'answerCallbackQuery' && c.params.callback_query_id === queryId,
    )
    .then((c) => String(c.params.text));

describe('approval buttons on Telegram', () => {
  it('the card has Allow once / Allow always / Deny; a stranger is refused; two presses at once make one decision; the task proceeds; the card is edited', async () => {
    const { d, fake, results } = await boot();
    const ended = runEnded(d);
    const { a, card } = await askForCard(d, fake);
    expect(a).toMatchObject({ kind: 'schedule_task', askedIn: `tg:${GROUP}` });
    expect(card.chatId).toBe(GROUP);
    expect(card.visible).toContain(`Approval #${a.id}`);
    expect(card.visible).toContain(`"yes ${a.id}"`); // the text fallback stays on the card
    expect(card.replyMarkup!.inline_keyboard).toEqual([
      [
        { text: 'Allow once', callback_data: `approval:${a.id}:once` },
        { text: 'Allow always', callback_data: `approval:${a.id}:always` },
        { text: 'Deny', callback_data: `approval:${a.id}:deny` },
      ],
    ]);

    // Someone else in the group presses: answered, refused, nothing decided.
    const q1 = fake.pushCallbackQuery({
      from: stranger,
      messageId: card.messageId,
      data: `approval:${a.id}:once`,
    });
    expect(await answerTo(fake, q1)).toBe(
      `Only the owner or an approver of group "main" can answer approval #${a.id}.`,
    );
    expect(d.store.approvals.get(a.id)!.status).toBe('pending');

    // The owner presses Allow once and Deny at once (two devices): the first wins.
    const decided = approvalDecided(d, a.id);
    const q2 = fake.pushCallbackQuery({
      from: owner,
      messageId: card.messageId,
      data: `approval:${a.id}:once`,
    });
    const q3 = fake.pushCallbackQuery({
      from: owner,
      messageId: card.messageId,
      data: `approval:${a.id}:deny`,
    });
    const [t2, t3] = await Promise.all([answerTo(fake, q2), answerTo(fake, q3)]);
    expect(await decided).toMatchObject({
      status: 'allowed',
      decision: 'once',
      decidedBy: `tg:${owner.id}`,
    });
    expect(t2).toBe(`✅ Approval #${a.id} was allowed once by tg:${owner.id}.`);
    expect(t3).toBe(`Already decided: ✅ Approval #${a.id} was allowed once by tg:${owner.id}.`);
    expect(fake.callbackAnswers.map((x) => x.queryId).sort()).toEqual([q1, q2, q3].sort());

    // The held tool call proceeds: the task is created, the run ends ok.
    expect((await ended).status).toBe('ok');
    expect(results[0]).toMatchObject({ ok: true, result: { created: true } });
    expect(d.scheduling.tasks.list({ group: 'main', isMain: true })).toHaveLength(1);

    // The card now says who decided how, and has no buttons.
    await fake.waitForCall(
      (c) => c.method === 'editMessageText' && c.params.message_id === card.messageId && c.ok,
    );
    expect(card.replyMarkup).toBeUndefined();
    expect(card.visible).toContain(`Approval #${a.id}`);
    expect(card.visible).toContain(`allowed once by tg:${owner.id}`);
    expect(card.visible).not.toContain(`"yes ${a.id}"`);
  });

  it('"no N" typed in chat decides too: the card loses its buttons, and a later press is told it was decided', async () => {
    const { d, fake, results } = await boot();
    const ended = runEnded(d);
    const { a, card } = await askForCard(d, fake);
    const edited = fake.waitForCall(
      (c) => c.method === 'editMessageText' && c.params.message_id === card.messageId && c.ok,
    );
    const res = await say(d, `tg:${GROUP}`, `no ${a.id}`, `tg:${owner.id}`);
    expect(res).toMatchObject({ wakes: false });
    expect((await ended).status).toBe('ok');
    expect(results[0]).toMatchObject({ ok: false });
    await edited;
    expect(card.replyMarkup).toBeUndefined();
    expect(card.visible).toContain(`denied by tg:${owner.id}`);

    // A press on a copy of the card still open somewhere (a client that did not refresh).
    const q = fake.pushCallbackQuery({
      from: owner,
      messageId: card.messageId,
      data: `approval:${a.id}:always`,
    });
    expect(await answerTo(fake, q)).toBe(
      `Already decided: ⛔ Approval #${a.id} was denied by tg:${owner.id}.`,
    );
    expect(d.store.approvals.get(a.id)).toMatchObject({ status: 'denied', decision: 'deny' });
    expect(d.guard.rules('main')).toEqual([]);
  });

  it('a configured approver (guard.approvers) decides from the button like the owner', async () => {
    const approver = { id: 5151, is_bot: false as const, first_name: 'Ada' };
    const { d, fake, results } = await boot(
      `guard: { approvers: { main: [{ sender: 'tg:${approver.id}', chat: 'tg:${approver.id}' }] } }\n`,
    );
    const ended = runEnded(d);
    const { a, card } = await askForCard(d, fake);
    const q = fake.pushCallbackQuery({
      from: approver,
      messageId: card.messageId,
      data: `approval:${a.id}:always`,
    });
    expect(await answerTo(fake, q)).toBe(
      `✅ Approval #${a.id} was allowed always by tg:${approver.id}.`,
    );
    expect((await ended).status).toBe('ok');
    expect(results[0]).toMatchObject({ ok: true, result: { created: true } });
    expect(d.guard.rules('main')).toEqual([
      // The canonical schedule: an interval in milliseconds.
      expect.objectContaining({ kind: 'schedule_task', pattern: '900000', effect: 'allow' }),
    ]);
  });

  it("a group's approval goes to the owner's Telegram DM bound to main after setup, not the web chat bound first; the group's chat gets the note", async () => {
    const fake = await startFakeTelegram();
    stops.push(() => fake.close());
    const TEAM = -100555;
    const home = defaultHome(
      `owner: { ids: ['tg:${owner.id}'] }\n` +
        `channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN, apiRoot: "${fake.apiRoot}" }\n`,
    );
    writeFileSync(join(home, '.env'), `TELEGRAM_BOT_TOKEN=${fake.token}\n`);
    const world: { d?: Daemon } = {};
    const results: ResponseFile[] = [];
    const launcher = scriptedLauncher(async ({ spec }) => {
      const r = await toolCall(world.d!, home, 'team', spec.sessionToken, 'schedule_task', {
        schedule: '15m',
        prompt: 'check the oven',
      });
      results.push(r.first);
      return reply('asked');
    });
    const d = (world.d = await startDaemon(home, [launcher]));
    stops.push(() => d.stop());
    // What `clawpod setup --telegram-owner` leaves: main on web:main first, then the owner's DM.
    d.groups.bind('main', `tg:${owner.id}`);
    d.groups.add({ name: 'team', chats: [`tg:${TEAM}`], requiresTrigger: false });
    d.ipc.ensureGroup('team'); // the sandbox launch would make it; the scripted agent has none
    expect(d.store.groups.main()!.chats).toEqual(['web:main', `tg:${owner.id}`]);

    const asked = nextApproval(d);
    const ended = runEnded(d);
    const card = fake.waitForCall((c) => c.method === 'sendMessage' && !!c.params.reply_markup);
    const note = fake.waitForCall(
      (c) => c.method === 'sendMessage' && c.params.chat_id === TEAM && c.ok,
    );
    fake.pushMessage({
      chat: { id: TEAM, type: 'supergroup', title: 'Team' },
      from: stranger,
      text: 'check the oven every 15 minutes',
    });
    const a = await asked;
    expect(a).toMatchObject({ group: 'team', kind: 'schedule_task', askedIn: `tg:${owner.id}` });
    expect((await card).params.chat_id).toBe(owner.id);
    expect(String((await note).params.text)).toContain(`approval #${a.id}`);
    await ended;
    expect(results[0]).toMatchObject({ ok: true, result: { pending: { approval: a.id } } });
  });
});
