import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useSchedulerNodes, type SchedulerNode } from '../../test/support/scheduler-node.js';
import { useTempDirs } from '../../test/support/tmp.js';
import { silentLogger } from '../logging/logger.js';
import { Scheduler, type TaskOccurrence } from './scheduler.js';
import { OWNER } from '../tasks/task-service.js';

const tempDir = useTempDirs('clawpod-scheduler-');
const T0 = Date.UTC(2026, 0, 5, 6, 0, 0); // Monday 2026-01-05 07:00 Berlin
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const { node, open } = useSchedulerNodes();

const scheduledFor = (i: TaskOccurrence) => i.scheduledFor;

describe('Scheduler: each schedule type fires on time', () => {
  it('cron in the task zone, at the exact instant, one timer armed for it', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id } = n.service.create(OWNER, {
      group: 'team',
      schedule: '0 8 * * 1',
      prompt: 'weekly brief',
      timezone: 'Europe/Berlin',
    });
    const due = Date.UTC(2026, 0, 5, 7, 0, 0); // 08:00 Berlin
    // Sleeps are clamped to a minute; the last one ends exactly at the due time.
    expect(n.scheduler.nextWakeAt).toBe(T0 + 60_000);
    await clock.advanceTo(due - 30_000);
    expect(n.scheduler.nextWakeAt).toBe(due);
    await clock.advanceTo(due - 1);
    expect(n.items).toHaveLength(0);
    await clock.advance(1);
    expect(n.items).toHaveLength(1);
    expect(n.items[0]).toMatchObject({
      kind: 'task',
      group: 'team',
      lane: `team#task:${id}`,
      key: `task:${id}:${due}`,
      taskId: id,
    });
    const task = n.store.tasks.get(id)!;
    expect(task.nextRunAt).toBe(due + 7 * DAY);
    expect(task.leaseOwner).toBe('a');
    n.complete(n.items[0]!);
    expect(n.store.tasks.get(id)!.leaseOwner).toBeNull();
    await clock.advanceTo(due + 7 * DAY);
    expect(n.items.map(scheduledFor)).toEqual([due, due + 7 * DAY]);
  });

  it('interval on its grid without drift, including after a late run', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id } = n.service.create(OWNER, { group: 'team', schedule: '15m', prompt: 'poll' });
    const anchor = T0 + 15 * MIN;
    for (let k = 0; k < 8; k++) {
      await clock.advanceTo(anchor + k * 15 * MIN);
      const last = n.items[n.items.length - 1]!;
      expect(scheduledFor(last)).toBe(anchor + k * 15 * MIN);
      // The run takes 20 s: the next is still on the grid.
      await clock.advance(20_000);
      n.complete(last);
    }
    expect(n.items).toHaveLength(8);
    expect(n.store.tasks.get(id)!.nextRunAt).toBe(anchor + 8 * 15 * MIN);
  });

  it('once: fires once and is completed', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id, task } = n.service.create(OWNER, {
      group: 'team',
      schedule: '2026-01-05T09:30',
      prompt: 'remind me',
    });
    expect(task.nextRunAt).toBe(Date.UTC(2026, 0, 5, 8, 30)); // read in Europe/Berlin
    await clock.advance(DAY);
    expect(n.items).toHaveLength(1);
    const stored = n.store.tasks.get(id)!;
    expect(stored.status).toBe('completed');
    expect(stored.nextRunAt).toBeNull();
  });

  it('a daily fixed-time job in New York fires once a day across both DST changes', async () => {
    const cases = [
      {
        cron: '30 2 * * *', // 02:30 does not exist on 8 March: runs at the jump (03:00 EDT)
        from: Date.UTC(2026, 2, 6, 0),
        fires: ['03-06T07:30', '03-07T07:30', '03-08T07:00', '03-09T06:30', '03-10T06:30'],
      },
      {
        cron: '30 1 * * *', // 01:30 happens twice on 1 November: runs on the first pass only
        from: Date.UTC(2026, 9, 30, 0),
        fires: ['10-30T05:30', '10-31T05:30', '11-01T05:30', '11-02T06:30', '11-03T06:30'],
      },
    ];
    for (const c of cases) {
      const clock = new FakeClock(c.from);
      const n = node(join(tempDir(), 'db'), clock, 'a', { scheduler: { maxSleepMs: DAY } });
      n.service.create(OWNER, {
        group: 'team',
        schedule: c.cron,
        prompt: 'daily',
        timezone: 'America/New_York',
      });
      const seen: string[] = [];
      for (let h = 0; h < 5 * 24; h++) {
        await clock.advance(HOUR);
        for (const item of n.items.splice(0)) {
          seen.push(new Date(scheduledFor(item)).toISOString().slice(5, 16));
          n.complete(item);
        }
      }
      expect(seen).toEqual(c.fires);
    }
  });

  it('clamps long sleeps and re-arms on every change', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    expect(n.scheduler.nextWakeAt).toBe(T0 + 60_000);
    n.service.create(OWNER, { group: 'team', schedule: '2026-06-01T00:00', prompt: 'far' });
    expect(n.scheduler.nextWakeAt).toBe(T0 + 60_000);
    const near = n.service.create(OWNER, { group: 'team', schedule: '30s', prompt: 'near' });
    expect(n.scheduler.nextWakeAt).toBe(T0 + 30_000);
    n.service.pause(OWNER, near.id);
    expect(n.scheduler.nextWakeAt).toBe(T0 + 60_000);
    await clock.advance(10 * MIN);
    expect(n.items).toHaveLength(0);
  });
});

describe('Scheduler: never twice', () => {
  it('two instances on one database: every occurrence is claimed exactly once', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const a = node(file, clock, 'a');
    const b = node(file, clock, 'b');
    for (let i = 0; i < 20; i++) {
      a.service.create(OWNER, { group: 'team', schedule: `${10 + i}s`, prompt: `p${i}` });
    }
    b.scheduler.changed();
    const done = new Map<SchedulerNode, TaskOccurrence[]>([
      [a, []],
      [b, []],
    ]);
    for (let step = 0; step < 30; step++) {
      await clock.advance(7_000);
      for (const [n, list] of done) {
        for (const item of n.items.splice(0)) {
          list.push(item);
          n.complete(item);
        }
      }
    }
    const keys = [...done.values()].flat().map((i) => i.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeGreaterThan(200);
    // Both instances did some of the work.
    expect(done.get(a)!.length).toBeGreaterThan(0);
    expect(done.get(b)!.length).toBeGreaterThan(0);
  });

  it('the claim is a compare-and-swap: of two claims on the same read, one wins', () => {
    const file = join(tempDir(), 'db');
    const clock = new FakeClock(T0);
    const a = node(file, clock, 'a', { start: false });
    const { id } = a.service.create(OWNER, { group: 'team', schedule: '1m', prompt: 'x' });
    const s1 = a.store.tasks;
    const other = open(file);
    const s2 = other.tasks;
    const read1 = s1.get(id)!;
    const read2 = s2.get(id)!;
    const write = (owner: string) => ({
      owner,
      leaseExpiresAt: T0 + 2 * MIN,
      nextRunAt: read1.nextRunAt! + MIN,
      status: 'active' as const,
      lastRunAt: read1.nextRunAt,
      now: T0 + MIN,
    });
    expect(s1.claim(read1, write('a'))).toBe(true);
    expect(s2.claim(read2, write('b'))).toBe(false);
    expect(s2.get(id)!.leaseOwner).toBe('a');
  });

  it('a crash mid-run leaves a lease; after it expires the occurrence is resolved once', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const crashed = node(file, clock, 'crashed');
    const { id } = crashed.service.create(OWNER, {
      group: 'team',
      schedule: '1h',
      prompt: 'x',
      missedPolicy: 'latest',
    });
    await clock.advance(HOUR);
    expect(crashed.items).toHaveLength(1);
    crashed.scheduler.stop(); // the process dies: no close(), the lease stays
    const due = scheduledFor(crashed.items[0]!);

    await clock.advance(30_000);
    const b = node(file, clock, 'b');
    expect(b.items).toHaveLength(0); // lease still live
    const c = node(file, clock, 'c');
    await clock.advance(2 * MIN); // lease expired: b and c both look
    const reruns = [...b.items, ...c.items];
    expect(reruns.map((i) => i.key)).toEqual([`task:${id}:${due}`]);
    const runs = b.store.taskRuns.list(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scheduledFor: due, status: 'pending' });
    const winner = b.items.length ? b : c;
    winner.complete(reruns[0]!);
    await clock.advance(10 * MIN);
    expect([...b.items, ...c.items]).toHaveLength(1);
  });

  it('skip policy: an interrupted run is recorded missed, not re-run', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const crashed = node(file, clock, 'crashed');
    const { id } = crashed.service.create(OWNER, {
      group: 'team',
      schedule: '1h',
      prompt: 'x',
      missedPolicy: 'skip',
    });
    await clock.advance(HOUR);
    crashed.scheduler.stop();
    await clock.advance(10 * MIN);
    const b = node(file, clock, 'b');
    await clock.advance(5 * MIN);
    expect(b.items).toHaveLength(0);
    const [run] = b.store.taskRuns.list(id);
    expect(run).toMatchObject({ status: 'missed' });
    expect(run!.error).toMatch(/interrupted/);
    expect(b.store.tasks.get(id)!.leaseOwner).toBeNull();
  });

  it('close() hands unfinished leases back: the next start resolves them at once', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const a = node(file, clock, 'a');
    const { id } = a.service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'x' });
    await clock.advance(HOUR);
    a.scheduler.close();
    const b = node(file, clock, 'b');
    expect(b.items.map((i) => i.taskId)).toEqual([id]);
  });

  it('leases of a dead local process expire at start', async () => {
    const clock = new FakeClock(T0);
    const file = join(tempDir(), 'db');
    const store = open(file);
    const a = node(file, clock, `${hostname()}:999999:abc`);
    const { id } = a.service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'x' });
    await clock.advance(HOUR);
    a.scheduler.stop();
    const b = new Scheduler({
      store,
      enqueue: () => true,
      notifyOwner: () => undefined,
      log: silentLogger(),
      clock,
      instanceId: 'b',
      isProcessAlive: (pid) => pid !== 999999,
    });
    b.start();
    expect(store.tasks.get(id)!.leaseOwner).toBe('b');
    b.stop();
  });
});

describe('Scheduler: the lease as the run path uses it', () => {
  const changes = (n: SchedulerNode) =>
    n.store.db.prepare('SELECT total_changes()').pluck().get() as number;

  it('a run starting on a fresh lease writes no renewal; a lease the heartbeat missed is renewed', async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id } = n.service.create(OWNER, { group: 'team', schedule: '10m', prompt: 'poll' });
    await clock.advanceTo(T0 + 10 * MIN);
    const claimed = n.store.tasks.get(id)!;
    expect(claimed.leaseExpiresAt).toBe(T0 + 10 * MIN + 120_000);
    const before = changes(n);
    expect(n.scheduler.renew(claimed)).toBe(true);
    expect(changes(n)).toBe(before); // no write, so no commit of its own
    // The heartbeat keeps a held lease fresh while the occurrence waits for a slot.
    await clock.advance(50_000);
    expect(n.scheduler.renew(n.store.tasks.get(id)!)).toBe(true);
    expect(changes(n)).toBe(before + 1); // the heartbeat's write only
    // A lease the heartbeat missed (a stalled event loop) is extended from now.
    expect(n.scheduler.renew({ ...claimed, leaseExpiresAt: clock.now() + 60_000 })).toBe(true);
    expect(n.store.tasks.get(id)!.leaseExpiresAt).toBe(clock.now() + 120_000);
    expect(n.scheduler.renew({ ...claimed, leaseOwner: 'b' })).toBe(false);
  });

  it("release drops the lease inside the caller's transaction, with the occurrence's end", async () => {
    const clock = new FakeClock(T0);
    const n = node(join(tempDir(), 'db'), clock, 'a');
    const { id } = n.service.create(OWNER, { group: 'team', schedule: '10m', prompt: 'poll' });
    await clock.advanceTo(T0 + 10 * MIN);
    const run = n.store.taskRuns.byOccurrence(id, n.items[0]!.scheduledFor)!;
    expect(() =>
      n.store.tx(() => {
        n.store.taskRuns.finish(run.id, { status: 'ok', now: clock.now() });
        n.scheduler.release(id);
        expect(n.store.tasks.get(id)!.leaseOwner).toBeNull();
        throw new Error('the commit failed');
      }),
    ).toThrow('the commit failed');
    // Rolled back together: the occurrence is still open and the lease still held.
    expect(n.store.taskRuns.get(run.id)!.status).toBe('pending');
    expect(n.store.tasks.get(id)!.leaseOwner).toBe('a');
    n.complete(n.items[0]!);
    expect(n.store.tasks.get(id)!.leaseOwner).toBeNull();
  });
});
