import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { GroupService } from '../../src/groups/group-service.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { AgentLauncher } from '../../src/runs/agent-process.js';
import { OWNER } from '../../src/tasks/task-service.js';
import { Store } from '../../src/store/store.js';
import { driveUntil, FakeClock, flush } from '../support/fake-clock.js';
import { nextMessage, runEnded, say, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

/** A real daemon (port 0) whose scheduler runs on `clock`. */
async function boot(
  home: string,
  runner: AgentLauncher,
  clock: FakeClock,
  beforeStart?: (d: Daemon) => void,
): Promise<Daemon> {
  const config = loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH });
  const d = new Daemon({ config, log: silentLogger(), launchers: [runner], clock });
  daemons.push(d);
  beforeStart?.(d);
  await d.start();
  return d;
}

const out = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;
const taskRuns = (d: Daemon, id: string) => d.store.taskRuns.list(id, 1000);
const task = (d: Daemon, id: string) => d.store.tasks.get(id)!;

describe('scheduled tasks through the daemon', () => {
  it('a due task runs through the queue and answers in its chat', async () => {
    const runner = scriptedLauncher(() => reply('here is your brief'));
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    const { id, task: view } = d.scheduling.tasks.create(OWNER, {
      group: 'team',
      schedule: '1h',
      prompt: 'write the brief',
    });
    expect(d.status().tasks?.due[0]).toMatchObject({ id, nextRunAt: view.nextRunAt });
    const answer = nextMessage(d, out('web:team'));
    const ended = runEnded(d);
    await clock.advance(HOUR);
    expect((await answer).text).toBe('here is your brief');
    const run = d.store.runs.get((await ended).id)!;
    expect(run).toMatchObject({
      kind: 'task',
      taskId: id,
      group: 'team',
      chatId: 'web:team',
      status: 'ok',
    });
    const prompt = runner.inputs[0]!.prompt;
    expect(prompt).toMatch(/<scheduled_task id="[^"]+" schedule="every 1h"/);
    expect(prompt).toContain('This is a scheduled task, not a live message');
    expect(prompt).toContain('write the brief');
    const [tr] = taskRuns(d, id);
    expect(tr).toMatchObject({
      status: 'ok',
      trigger: 'schedule',
      runId: run.id,
      attempts: 1,
      result: 'here is your brief',
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.001,
      scheduledFor: view.nextRunAt,
    });
    expect(task(d, id)).toMatchObject({ leaseOwner: null, nextRunAt: view.nextRunAt! + HOUR });
  });

  it("the occurrence's end and the lease's release commit together", async () => {
    const runner = scriptedLauncher(() => reply('done'));
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    const { id } = d.scheduling.tasks.create(OWNER, { schedule: '1h', prompt: 'p' });
    // The run's end is announced just after its commit: the lease went with it, not later.
    const atEnd = new Promise<unknown>((resolve) =>
      d.bus.on('run', (r) => {
        if (r.status === 'ok')
          resolve({ occurrence: taskRuns(d, id)[0]!.status, lease: task(d, id).leaseOwner });
      }),
    );
    await clock.advance(HOUR);
    expect(await atEnd).toEqual({ occurrence: 'ok', lease: null });
  });

  it('group context resumes the group session; isolated starts fresh and saves none', async () => {
    const runner = scriptedLauncher(({ spec }) => [
      { type: 'message', text: `resume ${spec.resumeId ?? 'none'}` },
      { type: 'result', resumeId: spec.resumeId ?? `new-${spec.sessionId}` },
    ]);
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    const first = nextMessage(d, out('web:main'));
    await say(d, 'web:main', 'hello');
    expect((await first).text).toBe('resume none');
    const groupSession = d.store.resumeIds.get('main', 'claude')!;
    expect(groupSession).toMatch(/^new-/);

    const grouped = d.scheduling.tasks.create(OWNER, {
      schedule: '1h',
      prompt: 'g',
      contextMode: 'group',
    });
    const isolated = d.scheduling.tasks.create(OWNER, {
      schedule: '1h',
      prompt: 'i',
      contextMode: 'isolated',
    });
    const done = [runEnded(d), runEnded(d)];
    await clock.advance(HOUR);
    await Promise.all(done);
    const sessionOf = (taskId: string) =>
      runner.inputs.find((i) => i.prompt.includes(`id="${taskId}"`))!.sessionId;
    const specOf = (sessionId: string) => runner.started.find((s) => s.sessionId === sessionId)!;
    // The group's conversation: a fresh session resuming the group's conversation (the chat's
    // session idled out during the hour), never a second live one beside it.
    expect(specOf(sessionOf(grouped.id)).resumeId).toBe(groupSession);
    expect(specOf(sessionOf(isolated.id)).resumeId).toBeNull();
    // The isolated run's fresh conversation is not saved as the group's.
    expect(d.store.resumeIds.get('main', 'claude')).toBe(groupSession);
  });

  it('a group-context task is answered by the live conversation session between chat turns', async () => {
    const runner = scriptedLauncher(({ spec }) => reply(`from ${spec.sessionId}`));
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    const first = nextMessage(d, out('web:main'));
    await say(d, 'web:main', 'hello');
    await first;
    const { id } = d.scheduling.tasks.create(OWNER, {
      schedule: '10m',
      prompt: 'g',
      contextMode: 'group',
    });
    const ended = runEnded(d);
    await clock.advance(10 * MIN); // within the default idle timeout: the session is still warm
    await ended;
    expect(runner.started).toHaveLength(1);
    const taskInput = runner.inputs.find((i) => i.prompt.includes(`id="${id}"`))!;
    expect(taskInput.sessionId).toBe(runner.started[0]!.sessionId);
  });

  it('after every retry the owner and the chat are told; 3 failures in a row pause the task', async () => {
    const runner = scriptedLauncher(() => [{ type: 'error', message: 'model overloaded' }]);
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    const { id } = d.scheduling.tasks.create(OWNER, { group: 'team', schedule: '1h', prompt: 'x' });
    for (let i = 1; i <= 3; i++) {
      const owner = nextMessage(d, (m) => out('web:main')(m) && m.text.includes('failed'));
      const chat = nextMessage(d, (m) => out('web:team')(m) && m.text.includes('failed'));
      const paused =
        i === 3
          ? nextMessage(d, (m) => out('web:main')(m) && m.text.includes('paused'))
          : undefined;
      const chatPaused =
        i === 3
          ? nextMessage(d, (m) => out('web:team')(m) && m.text.includes('paused'))
          : undefined;
      await driveUntil(clock, owner, { stepMs: MIN, maxMs: 2 * HOUR });
      expect((await owner).text).toMatch(
        new RegExp(`Scheduled task ${id} .* failed 5 times.*model overloaded`),
      );
      expect((await chat).text).toContain('The owner has been told');
      if (i === 3) {
        expect((await paused!).text).toContain(`paused after 3 consecutive failures`);
        expect((await chatPaused!).text).toContain(`clawpod tasks resume ${id}`);
      }
      expect(task(d, id).consecutiveFailures).toBe(i);
    }
    expect(runner.started).toHaveLength(15);
    expect(task(d, id).status).toBe('paused');
    expect(taskRuns(d, id).map((r) => [r.status, r.attempts])).toEqual([
      ['error', 5],
      ['error', 5],
      ['error', 5],
    ]);
    expect(d.store.deadLetters.list().filter((x) => x.group === 'team')).toHaveLength(3);
    // Paused: nothing more runs.
    await clock.advance(3 * HOUR);
    expect(runner.started).toHaveLength(15);
  });

  it('a success resets the failure count', async () => {
    let fail = true;
    const runner = scriptedLauncher(() =>
      fail ? [{ type: 'error', message: 'flaky' }] : reply('ok'),
    );
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    const { id } = d.scheduling.tasks.create(OWNER, { schedule: '1h', prompt: 'x' });
    const told = nextMessage(d, (m) => out('web:main')(m) && m.text.includes('failed'));
    await driveUntil(clock, told, { stepMs: MIN, maxMs: 2 * HOUR });
    expect(task(d, id).consecutiveFailures).toBe(1);
    fail = false;
    const ok = nextMessage(d, (m) => out('web:main')(m) && m.text === 'ok');
    await driveUntil(clock, ok, { stepMs: MIN, maxMs: 2 * HOUR });
    expect(task(d, id).consecutiveFailures).toBe(0);
  });

  it('an occurrence still queued when its task is paused is skipped, not run', async () => {
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    const runner = scriptedLauncher(async ({ prompt }) => {
      if (prompt.includes('long question')) await busy;
      return reply('done');
    });
    const clock = new FakeClock(Date.now());
    const d = await boot(tempHome(), runner, clock);
    const { id } = d.scheduling.tasks.create(OWNER, {
      schedule: '20m',
      prompt: 'x',
      contextMode: 'group', // queued in main's conversation lane, behind the message run
    });
    const ended = runEnded(d);
    await say(d, 'web:main', 'long question');
    await clock.advance(20 * MIN); // within the turn's time limit (30 min by default)
    expect(taskRuns(d, id)).toMatchObject([{ status: 'pending' }]);
    d.scheduling.tasks.pause(OWNER, id);
    release();
    await ended;
    await flush();
    expect(runner.started).toHaveLength(1);
    expect(taskRuns(d, id)).toMatchObject([
      { status: 'skipped', error: expect.stringMatching(/paused/) },
    ]);
    expect(task(d, id).leaseOwner).toBeNull();
  });
});

describe('restart recovery', () => {
  /** A database as a crash leaves it: task claimed by a dead daemon, its run left running. */
  function crashedState(home: string, now: number) {
    const store = Store.open(join(home, 'clawpod.db'));
    new GroupService(store, loadConfig({ CLAWPOD_HOME: home }).paths, () => now).ensureMain();
    const tasks = store.tasks;
    const due = now - 10 * MIN;
    tasks.insert({
      id: 'tcrash',
      group: 'main',
      chatId: null,
      prompt: 'hourly report',
      type: 'interval',
      value: String(HOUR),
      timezone: 'UTC',
      contextMode: 'isolated',
      missedPolicy: 'latest',
      missedCap: null,
      status: 'active',
      nextRunAt: due + HOUR,
      anchorAt: due,
      preCheck: null,
      createdBy: 'main',
      createdAt: due - HOUR,
      updatedAt: due,
    });
    store.db
      .prepare(
        "UPDATE tasks SET lease_owner = 'elsewhere:1:dead', lease_expires_at = ? WHERE id = 'tcrash'",
      )
      .run(now - 5 * MIN);
    const runs = store.taskRuns;
    runs.markRunning(runs.upsertPending('tcrash', due, 'schedule', due), 'run_dead', due);
    store.close();
    return due;
  }

  it('a run cut by a crash is run again exactly once after the lease expired', async () => {
    const home = tempHome();
    const now = Date.now();
    const due = crashedState(home, now);
    const runner = scriptedLauncher(() => reply('report'));
    const clock = new FakeClock(now);
    let ended: Promise<unknown> = Promise.resolve();
    const d = await boot(home, runner, clock, (d0) => (ended = runEnded(d0)));
    await ended;
    expect(runner.started).toHaveLength(1);
    expect(taskRuns(d, 'tcrash')).toMatchObject([{ scheduledFor: due, status: 'ok', attempts: 2 }]);
    await d.stop();
    daemons.length = 0;
    const again = await boot(home, runner, clock);
    await clock.advance(MIN);
    expect(runner.started).toHaveLength(1);
    expect(taskRuns(again, 'tcrash')).toHaveLength(1);
  });

  it('missed occurrences while down: recorded, one caught up, one notice to the owner', async () => {
    const home = tempHome();
    // Half past the hour on the fake clock: exactly 72 hourly occurrences fall in the outage.
    const now = Date.UTC(2026, 10, 20, 12, 30);
    const store = Store.open(join(home, 'clawpod.db'));
    new GroupService(store, loadConfig({ CLAWPOD_HOME: home }).paths).ensureMain();
    const { TaskService } = await import('../../src/tasks/task-service.js');
    const before = new TaskService({ store, timezone: 'UTC', now: () => now - 3 * 24 * HOUR });
    const { id } = before.create(OWNER, { schedule: '0 * * * *', prompt: 'hourly' });
    store.close();
    const runner = scriptedLauncher(() => reply('caught up'));
    const clock = new FakeClock(now);
    let notice!: Promise<{ text: string }>;
    let reply1!: Promise<unknown>;
    let ended!: Promise<unknown>;
    const d = await boot(home, runner, clock, (d0) => {
      notice = nextMessage(d0, (m) => out('web:main')(m) && m.text.startsWith('⏰'));
      reply1 = nextMessage(d0, (m) => out('web:main')(m) && m.text === 'caught up');
      ended = runEnded(d0);
    });
    expect((await notice).text).toMatch(
      /While clawpod was not running, 71 scheduled runs were missed/,
    );
    await reply1;
    await ended;
    const history = taskRuns(d, id);
    expect(history.filter((r) => r.status === 'missed')).toHaveLength(71);
    expect(history.filter((r) => r.status === 'ok')).toHaveLength(1);
    expect(runner.started).toHaveLength(1);
    expect(runner.inputs[0]!.prompt).toContain('trigger="catch-up"');
  });
});
