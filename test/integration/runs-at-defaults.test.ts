import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { AgentLauncher } from '../../src/runs/agent-process.js';
import { OWNER } from '../../src/tasks/task-service.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { driveUntil, FakeClock, flush } from '../support/fake-clock.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

/**
 * The run path at the settings a user gets (idle timeout 30 min, run time limit 30 min, retries
 * 5 s doubling): time is driven with a fake clock, never shortened.
 */
const SEC = 1000;
const MIN = 60 * SEC;
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function boot(launcher: AgentLauncher, clock: FakeClock): Promise<Daemon> {
  const d = await startDaemon(defaultHome(), [launcher], undefined, {}, { clock });
  daemons.push(d);
  return d;
}

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;
const statuses = (d: Daemon) => d.store.runs.list({ limit: 1000 }).map((r) => r.status);

describe('runs end when they answer (defaults)', () => {
  it('a run that answered is ok at once; its session idles out after 30 min with no retry, notice or duplicate', async () => {
    const launcher = scriptedLauncher(() => reply('the answer'));
    const clock = new FakeClock(Date.now());
    const d = await boot(launcher, clock);
    const out = nextMessage(d, outIn('web:main'));
    const ended = runEnded(d);
    await say(d, 'web:main', 'question');
    expect((await out).text).toBe('the answer');
    const run = d.store.runs.get((await ended).id)!;
    expect(run.status).toBe('ok');
    expect(run.endedAt).not.toBeNull();
    const [session] = d.pool.list();
    expect(session!.state.name).toBe('idle');
    expect(d.status().sessions).toMatchObject([{ state: 'idle', group: 'main', runId: null }]);

    await clock.advance(29 * MIN);
    expect(session!.state.name).toBe('idle');
    await clock.advance(2 * MIN);
    expect(await session!.closed).toBe('idle timeout');
    await clock.advance(10 * MIN); // nothing retries behind the expiry
    await flush();
    expect(d.store.agentSessions.get(session!.id)).toMatchObject({
      state: 'closed',
      endReason: 'idle timeout',
      turns: 1,
    });
    expect(statuses(d)).toEqual(['ok']);
    expect(launcher.inputs).toHaveLength(1);
    const out$ = d.store.messages.listChat('web:main', 0).filter((m) => m.direction === 'out');
    expect(out$.map((m) => m.text)).toEqual(['the answer']);
    expect(d.store.deadLetters.count()).toBe(0);
  });

  it('an interval task every 10 s fires at least 4 times in 45 s while the session stays warm', async () => {
    const launcher = scriptedLauncher(({ prompt }) =>
      reply(prompt.includes('<scheduled_task') ? 'tick' : 'hello'),
    );
    const clock = new FakeClock(Date.now());
    const d = await boot(launcher, clock);
    const hello = nextMessage(d, outIn('web:main'));
    await say(d, 'web:main', 'hi');
    await hello;
    const group = d.scheduling.tasks.create(OWNER, {
      schedule: '10s',
      prompt: 'tick',
      contextMode: 'group',
    });
    const isolated = d.scheduling.tasks.create(OWNER, { schedule: '10s', prompt: 'tock' });
    for (let t = 0; t < 45; t++) await clock.advance(SEC);
    await flush();
    const runs = d.store.taskRuns;
    for (const id of [group.id, isolated.id]) {
      const ok = runs.list(id, 100).filter((r) => r.status === 'ok');
      expect(ok.length).toBeGreaterThanOrEqual(4);
    }
    expect(statuses(d).filter((s) => s !== 'ok')).toEqual([]);
    // The group-context occurrences were answered by the chat's warm session.
    const chatSession = launcher.inputs[0]!.sessionId;
    const groupInputs = launcher.inputs.filter((i) => i.prompt.includes(`id="${group.id}"`));
    expect(groupInputs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(groupInputs.map((i) => i.sessionId))).toEqual(new Set([chatSession]));
    expect(d.pool.list().find((s) => s.id === chatSession)!.state.name).toBe('idle');
  });

  it('a hung turn stops at the 30 min run time limit, says so, and is retried 5 s later', async () => {
    let call = 0;
    const launcher = scriptedLauncher(async () => {
      if (call++ === 0) await new Promise<never>(() => undefined); // hangs until killed
      return reply('second try');
    });
    const clock = new FakeClock(Date.now());
    const d = await boot(launcher, clock);
    const out = nextMessage(d, outIn('web:main'));
    const failed = runEnded(d, (s) => s === 'error');
    await say(d, 'web:main', 'question');
    await driveUntil(clock, failed, { stepMs: MIN, maxMs: 31 * MIN });
    const first = d.store.runs.list()[0]!;
    expect(first.error).toMatch(/run hit its time limit \(30 min, limits\.runTimeoutMs\)/);
    await clock.advance(4 * SEC);
    expect(launcher.inputs).toHaveLength(1); // the retry waits its 5 s
    await clock.advance(SEC);
    expect((await out).text).toBe('second try');
    expect(d.store.runs.list().map((r) => [r.status, r.attempt])).toEqual([
      ['ok', 2],
      ['error', 1],
    ]);
  });
});
