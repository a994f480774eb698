import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';

let d: Daemon;
let home: string;
beforeAll(async () => {
  home = tempHome();
  d = await startDaemon(home, []);
  d.groups.add({ name: 'team', chats: ['web:team'] });
  d.ipc.ensureGroup('team');
});
afterAll(() => d.stop());

const ipc = (...p: string[]) => join(home, 'ipc', 'team', ...p);
const drop = async (kind: 'tasks' | 'requests', name: string, body: unknown) => {
  writeFileSync(ipc(kind, name), typeof body === 'string' ? body : JSON.stringify(body));
  await d.ipc.scan('team', kind);
};
const answer = (id: string) =>
  JSON.parse(readFileSync(ipc('responses', `${id}.json`), 'utf8')) as {
    ok: boolean;
    result?: Record<string, unknown>;
    error?: { code: string; message: string };
  };

describe('tasks over IPC', () => {
  it('a dropped task file with just schedule and prompt creates a cron task', async () => {
    await drop('tasks', 'weekly.json', { schedule: '0 8 * * 1', prompt: 'compile changelog...' });
    const res = answer('weekly');
    expect(res.ok).toBe(true);
    const task = d.scheduling.tasks
      .list({ group: 'main', isMain: true })
      .find((t) => t.group === 'team');
    expect(task).toMatchObject({ type: 'cron', prompt: 'compile changelog...' });
    expect(readdirSync(ipc('tasks'))).toEqual([]);
  });

  it('malformed task files land in errors/ with a reason and an answer', async () => {
    await drop('tasks', 'broken.json', '{not json');
    await drop('tasks', 'badcron.json', { schedule: '61 * * * *', prompt: 'x' });
    expect(answer('broken')).toMatchObject({ ok: false, error: { code: 'invalid_json' } });
    expect(answer('badcron').ok).toBe(false);
    const errors = readdirSync(ipc('errors'));
    expect(errors).toEqual(
      expect.arrayContaining(['broken.json', 'broken.json.error.json', 'badcron.json.error.json']),
    );
  });

  it('schedule_task answers the canonical schedule and the next three fire times', async () => {
    await drop('requests', 's1.json', {
      id: 's1',
      op: 'schedule_task',
      args: { schedule: 'every Monday', prompt: 'x' },
    });
    expect(answer('s1').ok).toBe(false);
    await drop('requests', 's2.json', {
      id: 's2',
      op: 'schedule_task',
      args: {
        schedule: '0 8 * * 1',
        prompt: 'weekly brief',
        timezone: 'America/New_York',
        context_mode: 'group',
      },
    });
    const res = answer('s2');
    expect(res.ok).toBe(true);
    const result = res.result as {
      task: { id: string };
      schedule: { value: string; timezone: string };
      nextRuns: unknown[];
    };
    expect(JSON.stringify(result)).toContain('America/New_York');
    expect(JSON.stringify(result)).toContain('0 8 * * 1');
  });

  it("a non-main group cannot touch main's task, nor learn that it exists", async () => {
    const mainTask = d.scheduling.tasks.create(
      { group: 'main', isMain: true },
      { id: 'tq7x', schedule: '1h', prompt: 'owner only' },
    );
    const id = mainTask.task.id;
    // Every op on main's task answers exactly what it answers for an id that does not exist.
    for (const op of ['pause_task', 'resume_task', 'cancel_task', 'update_task'] as const) {
      const args = op === 'update_task' ? { prompt: 'mine now' } : {};
      await drop('requests', `${op}-real.json`, { id: `${op}-real`, op, args: { ...args, id } });
      await drop('requests', `${op}-none.json`, {
        id: `${op}-none`,
        op,
        args: { ...args, id: 'nosuchid' },
      });
      const real = answer(`${op}-real`);
      const none = answer(`${op}-none`);
      expect(real).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(JSON.stringify(real.error).replaceAll(id, '<id>')).toBe(
        JSON.stringify(none.error).replaceAll('nosuchid', '<id>'),
      );
      expect(JSON.stringify(real)).not.toContain('main');
    }
    // Taking main's id for a task of its own says the id is taken, never whose it is.
    await drop('requests', 'steal.json', {
      id: 'steal',
      op: 'schedule_task',
      args: { id, schedule: '1h', prompt: 'x' },
    });
    expect(answer('steal')).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(JSON.stringify(answer('steal'))).not.toContain('main');
    expect(d.scheduling.tasks.get({ group: 'main', isMain: true }, id)).toMatchObject({
      status: 'active',
      prompt: 'owner only',
    });
  });
});
