import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useSchedulerNodes } from '../../test/support/scheduler-node.js';
import { useTempDirs } from '../../test/support/tmp.js';
import { OWNER, type Actor } from '../tasks/task-service.js';
import { TaskError } from '../schedule/errors.js';

const tempDir = useTempDirs('clawpod-scheduler-missed-');
const { node, open } = useSchedulerNodes();
const T0 = Date.UTC(2026, 2, 2, 9, 30); // Monday 10:30 Berlin
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (i: { scheduledFor: number }) => i.scheduledFor;

describe('missed runs after a 3-day outage', () => {
  const cases = [
    { policy: 'skip', missedCap: undefined, runs: 0, missed: 72 },
    { policy: 'latest', missedCap: undefined, runs: 1, missed: 71 },
    { policy: 'all', missedCap: 10, runs: 10, missed: 62 },
  ] as const;
  for (const c of cases) {
    it(`${c.policy}: ${c.runs} run, ${c.missed} recorded missed, one notice`, async () => {
      const clock = new FakeClock(T0);
      const file = join(tempDir(), 'db');
      const before = node(file, clock, 'before', { start: false });
      const { id } = before.service.create(OWNER, {
        group: 'team',
        schedule: '0 * * * *',
        prompt: 'hourly',
        missedPolicy: c.policy,
        ...(c.missedCap && { missedCap: c.missedCap }),
      });
      const first = Date.UTC(2026, 2, 2, 10, 0);
      // Down for 3 days: 72 hourly occurrences (first … first + 71 h) fall in the outage.
      clock.jump(3 * DAY + 10 * MIN);
      const after = node(file, clock, 'after');
      const expected = Array.from({ length: c.runs }, (_, i) => first + (72 - c.runs + i) * HOUR);
      expect(after.items.map(at)).toEqual(expected);
      const history = after.store.taskRuns.list(id, 1000);
      expect(history.filter((r) => r.status === 'missed')).toHaveLength(c.missed);
      expect(history.filter((r) => r.status === 'pending')).toHaveLength(c.runs);
      expect(history.filter((r) => r.trigger === 'catch-up')).toHaveLength(c.runs);
      expect(after.notices).toHaveLength(1);
      expect(after.notices[0]!.text).toContain(`${c.missed + 0} missed`);
      expect(after.store.tasks.get(id)!.nextRunAt).toBe(first + 72 * HOUR);
      // Nothing missed twice, nothing run twice: a second start finds nothing.
      after.scheduler.close();
      const again = node(file, clock, 'again');
      // Catch-ups handed back unfinished are interrupted runs: re-run (same rows), not missed.
      expect(again.items.map(at)).toEqual(expected);
      expect(again.notices).toHaveLength(0);
      const all = again.store.taskRuns.list(id, 1000);
      expect(all).toHaveLength(72);
    });
  }

  it('a suspended machine (wall clock ahead of timers) is detected on wake-up', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id } = n.service.create(OWNER, {
      group: 'team',
      schedule: '15m',
      prompt: 'poll',
      missedPolicy: 'latest',
    });
    clock.jump(2 * HOUR); // asleep: timers did not move
    expect(n.items).toHaveLength(0);
    await clock.advance(MIN);
    expect(n.items).toHaveLength(1);
    const runs = n.store.taskRuns.list(id, 100);
    expect(runs.filter((r) => r.status === 'missed')).toHaveLength(7);
    expect(n.notices).toHaveLength(1);
    expect(n.notices[0]!.text).toMatch(/asleep or its clock jumped: 7 scheduled runs were missed/);
  });

  it('a run that is a little late (within grace) is on time, not missed', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    n.service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'x', missedPolicy: 'skip' });
    clock.jump(HOUR - 30_000); // the timer (armed for +1 min) fires 30 s after the due time
    await clock.advance(MIN);
    expect(n.items).toHaveLength(1);
    expect(n.notices).toHaveLength(0);
  });
});

describe('run now', () => {
  it('claims a manual occurrence beside the schedule; refused while another instance runs it', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const a = node(file, clock, 'a');
    const b = node(file, clock, 'b');
    const { id, task } = a.service.create(OWNER, { group: 'team', schedule: '1d', prompt: 'x' });
    const run = a.service.runNow(OWNER, id);
    expect(run.scheduledFor).toBe(T0);
    expect(a.items.map((i) => i.key)).toEqual([`task:${id}:${T0}`]);
    expect(a.store.tasks.get(id)!.nextRunAt).toBe(task.nextRunAt);
    expect(() => b.service.runNow(OWNER, id)).toThrow(/running in another clawpod process/);
    // The same instance may queue another (it runs after the first, same lane).
    await clock.advance(1);
    a.service.runNow(OWNER, id);
    expect(a.items).toHaveLength(2);
    for (const i of a.items.splice(0)) a.complete(i);
    expect(a.store.tasks.get(id)!.leaseOwner).toBeNull();
    expect(a.store.taskRuns.list(id).map((r) => r.trigger)).toEqual(['manual', 'manual']);
  });
});

describe('authorisation', () => {
  const team: Actor = { group: 'team', isMain: false };
  const other: Actor = { group: 'other', isMain: false };

  it('a non-main group manages only its own tasks; main manages all', () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    n.store.groups.insert('other', {}, { now: T0 });
    n.store.groups.bind('web:other', 'other', T0);
    const own = n.service.create(team, { schedule: '1h', prompt: 'mine' });
    expect(own.task.group).toBe('team');
    expect(own.task.createdBy).toBe('team');
    const refuse = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(TaskError);
        return (err as TaskError).code;
      }
      return 'allowed';
    };
    expect(
      refuse(() => n.service.create(other, { group: 'team', schedule: '1h', prompt: 'x' })),
    ).toBe('forbidden');
    // Another group's task is answered as one that does not exist (its id and owner stay unknown).
    expect(refuse(() => n.service.get(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.pause(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.update(other, own.id, { prompt: 'y' }))).toBe('not_found');
    expect(refuse(() => n.service.cancel(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.runNow(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.history(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.remove(other, own.id))).toBe('not_found');
    expect(refuse(() => n.service.list(other, { group: 'team' }))).toBe('forbidden');
    expect(n.service.list(other)).toEqual([]);
    expect(
      refuse(() => n.service.create(team, { schedule: '1h', prompt: 'x', chat: 'web:other' })),
    ).toBe('invalid');
    expect(n.service.list(team).map((t) => t.id)).toEqual([own.id]);
    expect(refuse(() => n.service.pause(OWNER, own.id))).toBe('allowed');
    expect(
      n.service.create(OWNER, { group: 'other', schedule: '1h', prompt: 'x' }).task.group,
    ).toBe('other');
    expect(n.service.list(OWNER)).toHaveLength(2);
  });
});

describe('10,000 active tasks', () => {
  it('arming is one indexed query and picks the earliest', () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const n = node(file, clock, 'a', { start: false });
    const store = n.store.tasks;
    let earliest = Infinity;
    n.store.tx(() => {
      for (let i = 0; i < 10_000; i++) {
        const next = T0 + 1000 + ((i * 7919) % 10_000) * 1000 + (i % 13);
        earliest = Math.min(earliest, next);
        store.insert({
          id: `t${i}`,
          group: 'team',
          chatId: null,
          prompt: 'p',
          type: 'interval',
          value: '3600000',
          timezone: 'UTC',
          contextMode: 'isolated',
          missedPolicy: 'latest',
          missedCap: null,
          status: i % 10 === 0 ? 'paused' : 'active',
          nextRunAt: next,
          anchorAt: next,
          preCheck: null,
          createdBy: 'main',
          createdAt: T0,
          updatedAt: T0,
        });
      }
    });
    const active = n.store.db
      .prepare("SELECT MIN(next_run_at) FROM tasks WHERE status = 'active'")
      .pluck()
      .get() as number;
    expect(store.earliestDue()).toBe(active);
    const plan = n.store.db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT MIN(next_run_at) FROM tasks INDEXED BY tasks_due WHERE status = 'active' AND lease_owner IS NULL",
      )
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(
      /SEARCH tasks USING (COVERING )?INDEX tasks_due/,
    );
    n.scheduler.start();
    expect(n.scheduler.nextWakeAt).toBe(Math.min(active, T0 + 60_000));
    const other = open(file);
    expect(other.tasks.countByStatus()).toEqual({ active: 9000, paused: 1000 });
  });
});
