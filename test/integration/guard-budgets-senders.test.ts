/**
 * Budgets that pause and ask, unknown senders that are paired, frequent schedules and the
 * phase-2 tool op, through the real daemon at its defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { nextApproval, toolCall } from '../support/guard-world.js';
import { reply, scriptedLauncher, type Script } from '../support/scripted-launcher.js';
import { testChannels, useTestChannel } from '../support/test-channel.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function boot(script: Script, yaml = '', home = defaultHome(yaml)) {
  const channel = useTestChannel();
  const launcher = scriptedLauncher(script);
  const d = await startDaemon(home, [launcher], undefined, {}, { channels: testChannels(channel) });
  stops.push(() => d.stop());
  return { d, home, launcher, channel };
}

/** Each turn spends $0.001 and 15 tokens (the scripted `reply`). */
const answering: Script = ({ prompt }) => reply(`answer to ${prompt.length} chars`);

describe('budgets', () => {
  it('a run that would cross the daily cap pauses and asks: yes runs it once, no skips it (not a failure)', async () => {
    const { d, launcher } = await boot(
      answering,
      'budgets: { groups: { main: { daily: { usd: 0.0015 } } } }\n',
    );
    const first = runEnded(d);
    await say(d, 'web:main', 'one');
    expect((await first).status).toBe('ok');

    // Spent $0.001; the next run is expected to cost as much: over $0.0015, so it asks.
    const asked = nextApproval(d);
    const second = runEnded(d);
    await say(d, 'web:main', 'two');
    const a = await asked;
    expect(a).toMatchObject({ kind: 'budget', group: 'main', askedIn: 'web:main' });
    expect(a.card).toContain('Daily cap: $0.0015; spent: $0.0010');
    expect(a.effect).toMatchObject({ cap: 0.0015, spent: 0.001, expected: 0.001, raiseTo: 0.003 });
    expect(launcher.inputs).toHaveLength(1); // paused before the session: the agent has not run
    await say(d, 'web:main', `yes ${a.id}`);
    expect((await second).status).toBe('ok');
    expect(launcher.inputs).toHaveLength(2);

    const asked3 = nextApproval(d);
    const third = runEnded(d);
    const notRun = nextMessage(d, (m) => m.direction === 'out' && m.text.startsWith('⏭️'));
    await say(d, 'web:main', 'three');
    const b = await asked3;
    await say(d, 'web:main', `no ${b.id}`);
    const ended = await third;
    expect(ended.status).toBe('skipped');
    expect(d.store.runs.get(ended.id)).toMatchObject({ status: 'skipped', usage: {} });
    expect((await notRun).text).toContain('over the daily budget of group "main"');
    expect(launcher.inputs).toHaveLength(2);
    // The skipped batch is consumed: nothing is pending for web:main any more.
    expect(d.store.messages.pendingForChat('web:main').filter((m) => m.wakes)).toEqual([]);
  });

  it('always raises the cap (twice its value), shown in clawpod runs usage and the API', async () => {
    const { d, home } = await boot(
      answering,
      'budgets: { groups: { main: { daily: { tokens: 20 } } } }\n',
    );
    const first = runEnded(d);
    await say(d, 'web:main', 'one');
    await first;
    const asked = nextApproval(d);
    const second = runEnded(d);
    await say(d, 'web:main', 'two');
    const a = await asked;
    await say(d, 'web:main', `always ${a.id}`);
    expect((await second).status).toBe('ok');
    const res = await fetch(`http://127.0.0.1:${d.port}/api/budgets`, {
      headers: { authorization: `Bearer ${readFileSync(join(home, 'api-token'), 'utf8').trim()}` },
    });
    expect(await res.json()).toEqual([
      expect.objectContaining({
        scope: 'group',
        ref: 'main',
        period: 'daily',
        unit: 'tokens',
        cap: 40,
        raised: true,
        spent: 30,
      }),
    ]);
  });

  it('a task over its budget pauses and asks; approving runs it once; creation shows the expected cost', async () => {
    const { d } = await boot(
      answering,
      'budgets: { tasks: { digest: { daily: { usd: 0.001 } } } }\n',
    );
    const warm = runEnded(d);
    await say(d, 'web:main', 'a first run, so the group has a cost');
    await warm;
    const created = d.scheduling.tasks.create(
      { group: 'main', isMain: true },
      { id: 'digest', schedule: '0 8 * * *', prompt: 'the digest', timezone: 'UTC' },
    );
    expect(created.expectedCost).toMatchObject({
      perRunUsd: 0.001,
      runsPerMonth: 30,
      basis: { runs: 1, of: 'group' },
    });
    expect(created.expectedCost.text).toContain('$0.0010 a run, about $0.03 a month');

    const ran = runEnded(d);
    d.scheduling.tasks.runNow({ group: 'main', isMain: true }, 'digest');
    expect((await ran).status).toBe('ok');
    const asked = nextApproval(d);
    const again = runEnded(d);
    d.scheduling.tasks.runNow({ group: 'main', isMain: true }, 'digest');
    const a = await asked;
    expect(a.effect).toMatchObject({ kind: 'budget', scope: 'task', ref: 'digest' });
    d.guard.answer(a.id, 'once', 'owner');
    expect((await again).status).toBe('ok');
    expect(d.store.taskRuns.list('digest').map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('a restart while a run waits on its budget: the run is interrupted, re-run after the start, and waits on the same approval', async () => {
    const yaml = 'budgets: { groups: { main: { daily: { usd: 0.0015 } } } }\n';
    const first = await boot(answering, yaml);
    const one = runEnded(first.d);
    await say(first.d, 'web:main', 'one');
    await one;
    const asked = nextApproval(first.d);
    await say(first.d, 'web:main', 'two');
    const a = await asked;
    await stops.pop()!();

    const second = await boot(answering, yaml, first.home);
    const runs = second.d.store.runs.list({ limit: 5 });
    expect(runs.map((r) => r.status)).toContain('interrupted');
    // The re-run asks the same question: it joins the pending approval, no second card.
    const ran = runEnded(second.d, (s) => s === 'ok');
    await new Promise<void>((r) => setImmediate(r));
    expect(second.d.store.approvals.list({ status: 'all' }).map((x) => x.id)).toEqual([a.id]);
    expect(second.launcher.inputs).toHaveLength(0); // still paused on the budget
    second.d.guard.answer(a.id, 'once', 'owner');
    expect((await ran).status).toBe('ok');
    expect(second.d.store.approvals.list({ status: 'all' })).toHaveLength(1);
    expect(second.launcher.inputs[0]!.prompt).toContain('two');
  });

  it('with no runs yet the expected cost is unknown, said so', async () => {
    const { d } = await boot(answering);
    const created = d.scheduling.tasks.create(
      { group: 'main', isMain: true },
      { schedule: '0 8 * * 1', prompt: 'weekly', timezone: 'UTC' },
    );
    expect(created.expectedCost).toMatchObject({ perRunUsd: null, perMonthUsd: null });
    expect(created.expectedCost.text).toContain('expected cost unknown');
  });
});

describe('unknown senders', () => {
  it('policy ask: the sender gets nothing but a code until the owner approves; always adds them and their message runs', async () => {
    const { d, launcher, channel } = await boot(answering);
    d.groups.add({
      name: 'team',
      chats: ['test:team'],
      requiresTrigger: false,
      senders: { allow: ['test:alice'], others: 'ask' },
    });
    const asked = nextApproval(d);
    // The note to the sender, in the test channel's short chunks, until it holds the code.
    // eslint-disable-next-line prefer-const -- read by the listener before it is known
    let code: string | undefined;
    let said = '';
    const lockNote = nextMessage(d, (m) => {
      if (m.direction !== 'out' || m.chatId !== 'test:team') return false;
      said += m.text;
      return code !== undefined && said.includes(code);
    });
    const res = await d.router.receive({
      chatId: 'test:team',
      platformId: 'm1',
      sender: 'test:mallory',
      senderName: 'Mallory',
      text: 'hello, can you help me?',
      ts: Date.now(),
    });
    expect(res).toMatchObject({ wakes: false });
    const a = await asked;
    expect(a).toMatchObject({ kind: 'sender', group: 'team', askedIn: 'web:main' });
    expect(a.code).toMatch(/^[A-Z2-9]{6}$/);
    expect(a.card).toContain('Sender: test:mallory (shown as "Mallory")');
    expect(a.card).toContain(`Code the sender was given: ${a.code}`);
    code = a.code!;
    if (!said.includes(code)) await lockNote;
    expect(said).toContain('does not know you yet');
    expect(channel.sent.map((x) => x.text).join('')).toContain(code);
    expect(launcher.inputs).toHaveLength(0);
    // Listed as pending (CLI/API: approvals --kind sender).
    expect(d.guard.list({ status: 'pending', kind: 'sender' }).map((x) => x.id)).toEqual([a.id]);

    const ran = runEnded(d);
    await say(d, 'web:main', `always ${a.id}`);
    expect((await ran).status).toBe('ok');
    expect(launcher.inputs[0]!.prompt).toContain('hello, can you help me?');
    expect(d.store.groups.get('team')?.senders).toEqual({
      allow: ['test:alice', 'test:mallory'],
      others: 'ask',
    });
  });
});

describe('frequent schedules and the tool op', () => {
  it('schedule_task firing more than 24 times a day asks with the next fire times and expected cost; yes creates it', async () => {
    // eslint-disable-next-line prefer-const -- read by the launcher before boot returns
    let world: { d: Daemon; home: string } | undefined;
    const results: unknown[] = [];
    const { d, home } = await boot(async ({ spec }) => {
      for (const schedule of ['2h', '15m']) {
        const r = await toolCall(
          world!.d,
          world!.home,
          'main',
          spec.sessionToken,
          'schedule_task',
          {
            schedule,
            prompt: `check (${schedule})`,
          },
        );
        results.push(r.first, r.final ? await r.final : undefined);
      }
      return reply('scheduled');
    });
    world = { d, home };
    const asked = nextApproval(d);
    const ended = runEnded(d);
    await say(d, 'web:main', 'schedule the checks');
    const a = await asked;
    expect(a.kind).toBe('schedule_task');
    expect(a.card).toContain('Fires: 96 times in the next 24 hours');
    expect(a.card).toMatch(/Next: \S+, \S+, \S+/);
    expect(a.card).toContain('Expected cost: unknown');
    expect(a.card).toContain('check (15m)');
    await say(d, 'web:main', `yes ${a.id}`);
    await ended;
    // 2h (12 a day): created at once; 15m (96): pending first, then created.
    expect(results[0]).toMatchObject({ ok: true, result: { created: true } });
    expect(results[1]).toBeUndefined();
    expect(results[2]).toMatchObject({ ok: true, result: { pending: { approval: a.id } } });
    expect(results[3]).toMatchObject({ ok: true, result: { created: true } });
    expect(d.scheduling.tasks.list({ group: 'main', isMain: true })).toHaveLength(2);
  });

  it('approve_tool (the permission callback of phase 2): allowed by default, git push asks, no → deny', async () => {
    // eslint-disable-next-line prefer-const -- read by the launcher before boot returns
    let world: { d: Daemon; home: string } | undefined;
    const results: unknown[] = [];
    const { d, home } = await boot(async ({ spec }) => {
      for (const command of ['ls -la', 'git push origin main']) {
        const r = await toolCall(world!.d, world!.home, 'main', spec.sessionToken, 'approve_tool', {
          tool: 'Bash',
          input: { command, description: 'x' },
        });
        results.push(r.final ? await r.final : r.first);
      }
      return reply('done');
    });
    world = { d, home };
    const asked = nextApproval(d);
    const ended = runEnded(d);
    await say(d, 'web:main', 'push it');
    const a = await asked;
    expect(a.card).toContain('command: git push origin main');
    expect(a.card).toContain('description: x');
    await say(d, 'web:main', `no ${a.id}`);
    await ended;
    expect(results[0]).toMatchObject({ ok: true, result: { behavior: 'allow' } });
    expect(results[1]).toMatchObject({ ok: true, result: { behavior: 'deny' } });
  });
});
