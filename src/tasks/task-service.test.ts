import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useSchedulerNodes } from '../../test/support/scheduler-node.js';
import { useTempDirs } from '../../test/support/tmp.js';
import { TaskError } from '../schedule/errors.js';
import { OWNER, TaskService } from './task-service.js';

const tempDir = useTempDirs('clawpod-task-service-');
const { node } = useSchedulerNodes();
const T0 = Date.UTC(2026, 2, 27, 12); // Friday before the EU spring change (Sunday 29 March)

function setup() {
  const clock = new FakeClock(T0);
  return node(join(tempDir(), 'db'), clock, 'a', { start: false });
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof TaskError) return `${err.code}${err.detail ? `:${err.detail}` : ''}`;
    throw err;
  }
};

describe('TaskService.create', () => {
  it('returns the canonical schedule, the next 3 fire times in the task zone, and the id', () => {
    const { service } = setup();
    const out = service.create(OWNER, {
      group: 'team',
      schedule: '0 8 * * *',
      prompt: 'morning brief',
      timezone: 'europe/berlin',
    });
    expect(out.created).toBe(true);
    expect(out.id).toMatch(/^t[0-9a-f]{10}$/);
    expect(out.schedule).toEqual({
      type: 'cron',
      value: '0 8 * * *',
      timezone: 'Europe/Berlin',
      description: 'every day at 08:00 (Europe/Berlin)',
    });
    // Across the spring change: the offset moves from +01:00 to +02:00.
    expect(out.nextRuns).toEqual([
      '2026-03-28T08:00:00+01:00',
      '2026-03-29T08:00:00+02:00',
      '2026-03-30T08:00:00+02:00',
    ]);
    expect(out.task).toMatchObject({
      group: 'team',
      chat: null,
      contextMode: 'isolated',
      missedPolicy: 'latest',
      status: 'active',
      nextRun: '2026-03-28T08:00:00+01:00',
      createdBy: 'main',
    });
  });

  it('uses the configured zone by default and infers each type', () => {
    const { service } = setup();
    const iv = service.create(OWNER, { group: 'team', schedule: 3_600_000, prompt: 'p' });
    expect(iv.schedule).toMatchObject({
      type: 'interval',
      value: '3600000',
      timezone: 'Europe/Berlin',
    });
    expect(iv.task.nextRunAt).toBe(T0 + 3_600_000);
    const once = service.create(OWNER, {
      group: 'team',
      schedule: '2026-12-01T09:00',
      prompt: 'p',
    });
    expect(once.schedule).toMatchObject({ type: 'once', value: '2026-12-01T08:00:00.000Z' });
    expect(once.nextRuns).toEqual(['2026-12-01T09:00:00+01:00']);
    const cron = service.create(OWNER, { group: 'team', schedule: '@daily', prompt: 'p' });
    expect(cron.schedule.value).toBe('0 0 * * *');
  });

  it('refuses bad input with a clear reason', () => {
    const { service } = setup();
    const base = { group: 'team', prompt: 'p' };
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '61 * * * *' }))).toBe(
      'invalid:invalid_cron',
    );
    expect(
      codeOf(() => service.create(OWNER, { ...base, schedule: '1h', timezone: 'Mars/Base' })),
    ).toBe('invalid:invalid_timezone');
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '5s' }))).toBe(
      'invalid:invalid_interval',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '2020-01-01T00:00' }))).toBe(
      'invalid:in_the_past',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '1h', chat: 'web:main' }))).toBe(
      'invalid',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '1h', bogus: 1 }))).toBe(
      'invalid',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '1h', missedCap: 5 }))).toBe(
      'invalid:invalid_missed_policy',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, group: 'nope', schedule: '1h' }))).toBe(
      'not_found',
    );
    expect(codeOf(() => service.create(OWNER, { ...base, schedule: '1h', preCheck: 'true' }))).toBe(
      'invalid:pre_check_unavailable',
    );
    expect(service.list(OWNER)).toEqual([]);
    expect(() => service.create(OWNER, { ...base, schedule: '2020-01-01T00:00' })).toThrow(
      /2020-01-01T00:00:00\+01:00 is in the past/,
    );
  });

  it('is idempotent by id within a group; the id is refused to another group', () => {
    const { service, store } = setup();
    const a = service.create(OWNER, { id: 'weekly', group: 'team', schedule: '1h', prompt: 'p' });
    const b = service.create(OWNER, { id: 'weekly', group: 'team', schedule: '2h', prompt: 'q' });
    expect(b.created).toBe(false);
    expect(b.task).toEqual(a.task);
    store.groups.insert('other', {}, { now: T0 });
    store.groups.bind('web:other', 'other', T0);
    expect(
      codeOf(() =>
        service.create(OWNER, { id: 'weekly', group: 'other', schedule: '1h', prompt: 'p' }),
      ),
    ).toBe('conflict');
  });
});

describe('TaskService changes', () => {
  it('update recomputes the next run when the schedule changes', () => {
    const { service } = setup();
    const { id } = service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'p' });
    const changed = service.update(OWNER, id, { schedule: '30 9 * * *', timezone: 'UTC' });
    expect(changed).toMatchObject({ type: 'cron', value: '30 9 * * *', timezone: 'UTC' });
    expect(changed.nextRunAt).toBe(Date.UTC(2026, 2, 28, 9, 30));
    const prompt = service.update(OWNER, id, {
      prompt: 'new',
      contextMode: 'group',
      chat: 'web:team',
    });
    expect(prompt).toMatchObject({
      prompt: 'new',
      contextMode: 'group',
      chat: 'web:team',
      nextRunAt: changed.nextRunAt,
    });
    expect(service.update(OWNER, id, { missedPolicy: 'all' }).missedCap).toBe(10);
    expect(codeOf(() => service.update(OWNER, id, { schedule: 'nonsense' }))).toBe(
      'invalid:unrecognised_schedule',
    );
  });

  it('pause, resume, cancel follow the task lifecycle', () => {
    const { service } = setup();
    const { id } = service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'p' });
    expect(service.pause(OWNER, id).status).toBe('paused');
    expect(service.pause(OWNER, id).status).toBe('paused');
    expect(service.get(OWNER, id).nextRunAt).toBeNull();
    expect(service.resume(OWNER, id)).toMatchObject({ status: 'active', consecutiveFailures: 0 });
    expect(service.cancel(OWNER, id)).toMatchObject({ status: 'cancelled', nextRunAt: null });
    expect(codeOf(() => service.resume(OWNER, id))).toBe('conflict');
    expect(codeOf(() => service.update(OWNER, id, { prompt: 'x' }))).toBe('conflict');
    expect(codeOf(() => service.runNow(OWNER, id))).toBe('conflict');
    service.remove(OWNER, id);
    expect(codeOf(() => service.get(OWNER, id))).toBe('not_found');
  });

  it('removing a group removes its tasks and their history', () => {
    const { service, store } = setup();
    const { id } = service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'p' });
    store.db
      .prepare(
        "INSERT INTO task_runs (task_id, scheduled_for, trigger, status, created_at) VALUES (?, 1, 'schedule', 'missed', 1)",
      )
      .run(id);
    expect(store.groups.remove('team')).toBe(true);
    expect(service.list(OWNER)).toEqual([]);
    expect(store.db.prepare('SELECT COUNT(*) FROM task_runs').pluck().get()).toBe(0);
  });

  it('run-now without a daemon says what to do', () => {
    const { store } = setup();
    const service = new TaskService({ store, timezone: 'UTC', now: () => T0 });
    const { id } = service.create(OWNER, { group: 'team', schedule: '1h', prompt: 'p' });
    expect(() => service.runNow(OWNER, id)).toThrow(/needs the running daemon/);
  });

  it('preview and next list fire times without creating anything', () => {
    const { service } = setup();
    const p = TaskService.preview({ schedule: '30 2 * * *', timezone: 'Europe/Berlin', n: 3 }, T0);
    // 02:30 does not exist on 29 March in Berlin: it fires at the jump (03:00 CEST).
    expect(p.times.map((t) => t.local)).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-30T02:30:00+02:00',
    ]);
    expect(service.list(OWNER)).toEqual([]);
    const { id } = service.create(OWNER, { group: 'team', schedule: '15m', prompt: 'p' });
    expect(service.next(OWNER, id, 2).times.map((t) => t.at)).toEqual([
      T0 + 900_000,
      T0 + 1_800_000,
    ]);
  });
});

describe('TaskService across groups', () => {
  const messageOf = (fn: () => unknown): string => {
    try {
      fn();
      return 'ok';
    } catch (err) {
      if (err instanceof TaskError) return `${err.code}: ${err.message}`;
      throw err;
    }
  };

  it("answers a group about another group's task exactly as about a task that does not exist", () => {
    const { service, store } = setup();
    store.groups.insert('other', {}, { now: T0 });
    store.groups.bind('web:other', 'other', T0);
    const theirs = service.create(OWNER, { id: 'x1', group: 'team', schedule: '1h', prompt: 'p' });
    const other = { group: 'other', isMain: false };
    const ops: Array<[string, (id: string) => unknown]> = [
      ['get', (id) => service.get(other, id)],
      ['pause', (id) => service.pause(other, id)],
      ['resume', (id) => service.resume(other, id)],
      ['cancel', (id) => service.cancel(other, id)],
      ['update', (id) => service.update(other, id, { prompt: 'mine' })],
      ['remove', (id) => service.remove(other, id)],
      ['runNow', (id) => service.runNow(other, id)],
      ['history', (id) => service.history(other, id)],
      ['next', (id) => service.next(other, id)],
    ];
    for (const [name, op] of ops) {
      const foreign = messageOf(() => op('x1'));
      expect(foreign, name).toBe(messageOf(() => op('x2')).replace('x2', 'x1'));
      expect(foreign, name).toMatch(/^not_found: /);
      expect(foreign, name).not.toContain('team');
    }
    // Reusing the id says it is taken, not whose it is; the owner is told whose.
    const steal = messageOf(() => service.create(other, { id: 'x1', schedule: '1h', prompt: 'p' }));
    expect(steal).toMatch(/^conflict: /);
    expect(steal).not.toContain('team');
    expect(
      messageOf(() =>
        service.create(OWNER, { id: 'x1', group: 'other', schedule: '1h', prompt: 'p' }),
      ),
    ).toContain('"team"');
    expect(service.get(OWNER, 'x1')).toEqual(theirs.task);
  });
});
