import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FakeClock } from '../support/fake-clock.js';
import { nextMessage, runEnded, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const daemons: Daemon[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  process.env = { ...savedEnv };
  vi.restoreAllMocks();
});

async function boot(home: string, clock: FakeClock) {
  const config = loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH });
  const runner = scriptedLauncher(() => reply('task output'));
  const d = new Daemon({ config, log: silentLogger(), launchers: [runner], clock });
  daemons.push(d);
  await d.start();
  d.groups.add({ name: 'team', chats: ['web:team'] });
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${d.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };
  return { d, api, runner };
}

describe('HTTP API /api/tasks', () => {
  it('creates, lists, changes, runs and shows the history of a task', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 6, 0));
    const { d, api, runner } = await boot(tempHome(), clock);
    const created = await api('POST', '/api/tasks', {
      group: 'team',
      schedule: '0 9 * * 1-5',
      prompt: 'stand-up notes',
      timezone: 'America/New_York',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      created: true,
      schedule: { type: 'cron', value: '0 9 * * 1-5', timezone: 'America/New_York' },
      nextRuns: [
        '2026-06-01T09:00:00-04:00',
        '2026-06-02T09:00:00-04:00',
        '2026-06-03T09:00:00-04:00',
      ],
      task: { group: 'team', createdBy: 'main via api', status: 'active' },
    });
    const id = created.body!.id as string;
    expect((await api('GET', '/api/tasks')).body).toHaveLength(1);
    expect((await api('GET', '/api/tasks?group=main')).body).toHaveLength(0);
    expect((await api('GET', `/api/tasks/${id}`)).body).toMatchObject({ id });
    const patched = await api('PATCH', `/api/tasks/${id}`, {
      contextMode: 'group',
      missedPolicy: 'skip',
    });
    expect(patched.body).toMatchObject({ contextMode: 'group', missedPolicy: 'skip' });
    expect((await api('POST', `/api/tasks/${id}/pause`)).body).toMatchObject({ status: 'paused' });
    expect((await api('POST', `/api/tasks/${id}/resume`)).body).toMatchObject({ status: 'active' });

    const ended = runEnded(d);
    const output = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:team');
    const run = await api('POST', `/api/tasks/${id}/run`);
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ scheduledFor: clock.now() });
    expect((await output).text).toBe('task output');
    await ended;
    expect(runner.inputs[0]!.prompt).toContain('trigger="manual"');
    const history = await api('GET', `/api/tasks/${id}/runs?limit=5`);
    expect(history.body).toMatchObject([
      { trigger: 'manual', status: 'ok', result: 'task output' },
    ]);
    expect((await api('GET', '/api/status')).body!.tasks.due[0]).toMatchObject({ id });

    expect((await api('POST', `/api/tasks/${id}/cancel`)).body).toMatchObject({
      status: 'cancelled',
    });
    expect((await api('DELETE', `/api/tasks/${id}`)).status).toBe(204);
    expect((await api('GET', `/api/tasks/${id}`)).status).toBe(404);
  });

  it('answers bad requests with {error: {code, message}}', async () => {
    const { api } = await boot(tempHome(), new FakeClock(Date.now()));
    const bad = async (
      method: string,
      path: string,
      body: unknown,
      status: number,
      code: string,
      msg: RegExp,
    ) => {
      const res = await api(method, path, body);
      expect(res.status).toBe(status);
      expect(res.body!.error.code).toBe(code);
      expect(res.body!.error.message).toMatch(msg);
    };
    await bad(
      'POST',
      '/api/tasks',
      { schedule: '0 8 * *', prompt: 'p' },
      400,
      'invalid_cron',
      /has 4 fields|expected/,
    );
    await bad(
      'POST',
      '/api/tasks',
      { schedule: '1h', prompt: 'p', timezone: 'Moon/Base' },
      400,
      'invalid_timezone',
      /Unknown time zone/,
    );
    await bad(
      'POST',
      '/api/tasks',
      { schedule: '2001-01-01T00:00', prompt: 'p' },
      400,
      'in_the_past',
      /in the past/,
    );
    await bad('POST', '/api/tasks', { prompt: 'p' }, 400, 'invalid', /schedule/);
    await bad('POST', '/api/tasks', '{nope', 400, 'invalid_json', /JSON/);
    await bad(
      'POST',
      '/api/tasks',
      { group: 'ghost', schedule: '1h', prompt: 'p' },
      404,
      'not_found',
      /no group/,
    );
    await bad('GET', '/api/tasks/nope', undefined, 404, 'not_found', /no task "nope"/);
    await bad('POST', '/api/tasks/nope/run', undefined, 404, 'not_found', /no task/);
    await bad('GET', '/api/tasks?status=odd', undefined, 400, 'invalid_query', /expected one of/i);
    const t = await api('POST', '/api/tasks', { schedule: '1h', prompt: 'p' });
    await api('POST', `/api/tasks/${t.body!.id}/cancel`);
    await bad('POST', `/api/tasks/${t.body!.id}/resume`, undefined, 409, 'conflict', /cancelled/);
  });
});

describe('clawpod tasks', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const err = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => (lines.push(String(s)), true));
    const code = await main(args);
    vi.mocked(console.log).mockRestore();
    err.mockRestore();
    return { code, out: lines.join('\n') };
  }

  it('works on the database without a daemon; run-now says it needs one', async () => {
    const home = tempHome();
    process.env.CLAWPOD_HOME = home;
    process.env.CLAWPOD_URL = 'http://127.0.0.1:9';
    const add = await cli([
      'tasks',
      'add',
      'main',
      '--every',
      '15m',
      '--missed',
      'skip',
      'check',
      'the',
      'feed',
    ]);
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/added task (t[0-9a-f]+) for group main: every 15m/);
    const id = /added task (\S+)/.exec(add.out)![1]!;
    const list = await cli(['tasks', 'list']);
    expect(list.out).toContain(id);
    expect(list.out).toContain('check the feed');
    expect((await cli(['tasks', 'pause', id])).out).toContain(`paused task ${id}`);
    expect((await cli(['tasks', 'show', id])).out).toMatch(/status:\s+paused/);
    const runNow = await cli(['tasks', 'run-now', id]);
    expect(runNow.code).toBe(1);
    expect(runNow.out).toContain('needs the running daemon');
    const bad = await cli(['tasks', 'add', 'main', '--cron', '99 * * * *', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/Cron expression "99 \* \* \* \*"/);
    expect((await cli(['tasks', 'add', 'main', 'no', 'schedule'])).code).toBe(2);
    const json = await cli(['tasks', 'list', '--json']);
    expect(JSON.parse(json.out)).toMatchObject([{ id, status: 'paused', missedPolicy: 'skip' }]);
  });

  it('goes through the running daemon, which re-arms at once', async () => {
    const home = tempHome();
    const clock = new FakeClock(Date.now());
    const { d } = await boot(home, clock);
    process.env.CLAWPOD_HOME = home;
    process.env.CLAWPOD_URL = `http://127.0.0.1:${d.port}`;
    const add = await cli([
      'tasks',
      'add',
      'team',
      '--at',
      '2099-01-01T09:00',
      '--tz',
      'Asia/Tokyo',
      'new',
      'year',
    ]);
    expect(add.out).toMatch(/next runs \(Asia\/Tokyo\):\n\s+2099-01-01T09:00:00\+09:00/);
    const id = /added task (\S+)/.exec(add.out)![1]!;
    const created = d.scheduling.tasks.get({ group: 'main', isMain: true }, id);
    expect(created.createdBy).toBe('main via api');
    const ended = runEnded(d);
    expect((await cli(['tasks', 'run-now', id])).out).toContain(`queued a run of task ${id}`);
    await ended;
    const history = await cli(['tasks', 'history', id]);
    expect(history.out).toMatch(/manual\s+ok/);
    expect(d.store.taskRuns.list(id)).toHaveLength(1);
  });

  it('next prints fire times and creates nothing', async () => {
    process.env.CLAWPOD_HOME = tempHome();
    const r = await cli(['tasks', 'next', '0 8 * * 1', '--tz', 'Europe/London', '-n', '2']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^every Monday at 08:00 \(Europe\/London\)/);
    expect(r.out.trim().split('\n')).toHaveLength(3);
    expect((await cli(['tasks', 'next', 'sometimes'])).code).toBe(2);
  });
});
