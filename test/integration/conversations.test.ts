import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { GroupService } from '../../src/groups/group-service.js';
import { dataPaths } from '../../src/config/load.js';
import { OWNER } from '../../src/tasks/task-service.js';
import { Store } from '../../src/store/store.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { agentRequest } from '../support/agent-ipc.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

/** Several chats, senders and groups at once: every answer goes where its question came from. */
const daemons: Daemon[] = [];
const fakes: FakeTelegram[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const f of fakes.splice(0)) await f.close();
});

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;
const replies = (d: Daemon, chat: string) =>
  d.store.messages
    .listChat(chat, 0)
    .filter((m) => m.direction === 'out')
    .map((m) => m.text);

/** The text of the last <message> of a prompt. */
const lastText = (prompt: string) =>
  [...prompt.matchAll(/<message [^>]*>([\s\S]*?)<\/message>/g)].at(-1)?.[1] ?? '';

describe('a group bound to several chats', () => {
  it('answers a message that arrives while another chat is answered in its own chat', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const launcher = scriptedLauncher(async ({ prompt, call }) => {
      if (call === 0) await gate;
      return reply(`re: ${lastText(prompt)}`);
    });
    const d = await startDaemon(tempHome(), [launcher]);
    daemons.push(d);
    d.groups.add({ name: 'desk', chats: ['web:alice', 'web:carol'], requiresTrigger: false });
    const toAlice = nextMessage(d, outIn('web:alice'));
    const toCarol = nextMessage(d, outIn('web:carol'));
    const a = await say(d, 'web:alice', 'alice asks', 'alice');
    const c = await say(d, 'web:carol', 'carol asks', 'carol'); // while alice's turn runs
    release();
    expect((await toAlice).text).toBe('re: alice asks');
    expect((await toCarol).text).toBe('re: carol asks');
    expect(replies(d, 'web:alice')).toEqual(['re: alice asks']);
    expect(replies(d, 'web:carol')).toEqual(['re: carol asks']);
    // One warm session served both, one turn each; carol's prompt holds only carol's chat.
    expect(launcher.started).toHaveLength(1);
    expect(launcher.inputs[1]!.prompt).not.toContain('alice asks');
    // Each run records the message it answers.
    const runs = d.store.runs.list();
    const alicePid = d.store.messages.get(a.seq)!.platformId;
    const carolPid = d.store.messages.get(c.seq)!.platformId;
    expect(runs.map((r) => [r.chatId, r.replyTo, r.status])).toEqual([
      ['web:carol', carolPid, 'ok'],
      ['web:alice', alicePid, 'ok'],
    ]);
    expect(d.store.outbox.byKey(`run:${runs[1]!.id}:0`)!.replyTo).toBe(alicePid);
  });

  it('answers pending messages of two chats after a restart, each in its own chat', async () => {
    const home = tempHome();
    const store = Store.open(join(home, 'clawpod.db'));
    const groups = new GroupService(store, dataPaths(home));
    groups.ensureMain();
    groups.add({ name: 'desk', chats: ['web:alice', 'web:carol'], requiresTrigger: false });
    // As intake leaves them when the daemon stopped before answering: interleaved.
    for (const [chat, text] of [
      ['web:alice', 'alice one'],
      ['web:carol', 'carol one'],
      ['web:alice', 'alice two'],
    ] as const) {
      const { seq } = store.messages.insert({
        chatId: chat,
        platformId: text,
        sender: chat.slice(4),
        text,
        ts: Date.now(),
        wakes: true,
      });
      store.cursors.ensure(chat, seq);
    }
    store.close();
    const launcher = scriptedLauncher(({ prompt }) => {
      const texts = [...prompt.matchAll(/<message [^>]*>([\s\S]*?)<\/message>/g)].map((m) => m[1]);
      return reply(`got ${texts.join(' + ')}`);
    });
    let alice!: Promise<unknown>;
    let carol!: Promise<unknown>;
    const d = await startDaemon(home, [launcher], (x) => {
      alice = nextMessage(x, outIn('web:alice'));
      carol = nextMessage(x, outIn('web:carol'));
    });
    daemons.push(d);
    await Promise.all([alice, carol]);
    expect(replies(d, 'web:alice')).toEqual(['got alice one + alice two']);
    expect(replies(d, 'web:carol')).toEqual(['got carol one']);
  });

  it("two senders in one chat: each turn answers the newest sender's message, threaded to it", async () => {
    const launcher = scriptedLauncher(({ prompt }) => reply(`re: ${lastText(prompt)}`));
    const d = await startDaemon(tempHome(), [launcher]);
    daemons.push(d);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    const first = nextMessage(d, outIn('web:team'));
    await say(d, 'web:team', 'context from bob', 'bob');
    const q = await say(d, 'web:team', '@Andy question from carol', 'carol');
    expect((await first).text).toBe('re: @Andy question from carol');
    const [run] = d.store.runs.list();
    expect(run!.replyTo).toBe(d.store.messages.get(q.seq)!.platformId);
    expect(launcher.inputs[0]!.prompt).toContain('context from bob');
  });
});

describe('who is speaking', () => {
  it('main wakes only for the owner; a member named "Owner" is context with role member', async () => {
    const launcher = scriptedLauncher(() => reply('done'));
    const d = await startDaemon(tempHome("owner: { ids: ['tg:4242'] }\n"), [launcher]);
    daemons.push(d);
    d.groups.bind('main', 'web:family');
    await d.router.receive({
      chatId: 'web:family',
      platformId: 'f1',
      sender: 'tg:666',
      senderName: 'Owner',
      text: 'register a group for me and message everyone',
      ts: Date.now(),
    });
    expect(launcher.inputs).toHaveLength(0); // stored, but it cannot wake main
    const out = nextMessage(d, outIn('web:family'));
    await d.router.receive({
      chatId: 'web:family',
      platformId: 'f2',
      sender: 'tg:4242',
      senderName: 'Alice',
      text: 'what did they ask?',
      ts: Date.now(),
    });
    await out;
    const prompt = launcher.inputs[0]!.prompt;
    expect(prompt).not.toContain('register a group'); // kept for the record only
    expect(prompt).toContain('sender="Alice" sender_id="tg:4242" role="owner"');
    // Opened up on purpose: others may wake main, and the prompt still tells them apart.
    d.groups.update('main', { senders: { allow: 'all', others: 'store' } });
    const again = nextMessage(d, outIn('web:family'));
    await d.router.receive({
      chatId: 'web:family',
      platformId: 'f3',
      sender: 'tg:666',
      senderName: 'Owner',
      text: 'now me',
      ts: Date.now(),
    });
    await again;
    expect(launcher.inputs[1]!.prompt).toContain('sender="Owner" sender_id="tg:666" role="member"');
  });
});

describe('agent tools act in the conversation they were called from', () => {
  it('schedule_task and send_message from a Telegram DM bound to main go to that DM', async () => {
    const fake = await startFakeTelegram();
    fakes.push(fake);
    const home = tempHome(
      `owner: { ids: ['tg:4242'] }\n` +
        `channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN, apiRoot: "${fake.apiRoot}" }\n`,
    );
    writeFileSync(join(home, '.env'), `TELEGRAM_BOT_TOKEN=${fake.token}\n`);
    const world: { d?: Daemon } = {}; // the agent below reaches the daemon started after it
    let taskId = '';
    const launcher = scriptedLauncher(async ({ prompt, spec }) => {
      if (prompt.includes('<scheduled_task')) return reply('Good morning, here is your reminder');
      const d = world.d!;
      const note = await agentRequest(d, home, 'main', spec.sessionToken, 'send_message', {
        text: 'on it…',
      });
      const res = await agentRequest(d, home, 'main', spec.sessionToken, 'schedule_task', {
        schedule: '0 8 * * 1',
        prompt: 'remind me of the weekly review',
      });
      if (!note.ok || !res.ok) return reply(`failed: ${JSON.stringify([note, res])}`);
      taskId = (res.result as { id: string }).id;
      return reply('Scheduled for Mondays at 8.');
    });
    const d = (world.d = await startDaemon(home, [launcher]));
    daemons.push(d);
    const dm = 'tg:4242';
    d.groups.bind('main', dm);
    const answered = nextMessage(d, (m) => outIn(dm)(m) && m.text.startsWith('Scheduled'));
    fake.pushMessage({
      chat: { id: 4242, type: 'private', first_name: 'Alice' },
      from: { id: 4242, is_bot: false, first_name: 'Alice' },
      text: 'remind me every Monday at 8 of the weekly review',
    });
    await answered;
    expect(replies(d, 'web:main')).toEqual([]); // nothing went to main's first chat
    expect(replies(d, dm)).toEqual(['on it…', 'Scheduled for Mondays at 8.']);
    expect(d.store.tasks.get(taskId)!.chatId).toBe(dm);

    // The task's own output goes to the DM too.
    const reminder = nextMessage(d, (m) => outIn(dm)(m) && m.text.startsWith('Good morning'));
    d.scheduling.tasks.runNow(OWNER, taskId);
    await reminder;
    expect(fake.sent.filter((s) => s.chatId === 4242).map((s) => s.text)).toEqual([
      'on it…',
      'Scheduled for Mondays at 8.',
      'Good morning, here is your reminder',
    ]);
  });

  it('a tool call without a chat from outside any conversation is refused with the fix', async () => {
    const d = await startDaemon(tempHome(), []);
    daemons.push(d);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    d.ipc.ensureGroup('team');
    const home = d.status().daemon.home;
    const res = await agentRequest(d, home, 'team', 'not-a-live-session-token', 'send_message', {
      text: 'where does this go?',
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'no_chat' } });
    expect(replies(d, 'web:team')).toEqual([]);
  });
});
