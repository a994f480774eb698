import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryResult } from '../../src/memory/history-search.js';
import { MEMORY_HYGIENE_PROMPT } from '../../src/memory/task-templates.js';
import { Store } from '../../src/store/store.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, closedPort, runCli } from './cli-helpers.js';

const tmp = useTempDirs();
let home: string;
let env: NodeJS.ProcessEnv;
let nobody: string;

beforeAll(async () => {
  nobody = `http://127.0.0.1:${await closedPort()}`;
});

/** A data dir with two groups and a few messages, written as the daemon would. */
function seed(): void {
  const store = Store.open(join(home, 'clawpod.db'));
  store.groups.insert('team', {}, { now: 1 });
  store.groups.insert('other', {}, { now: 1 });
  store.groups.bind('tg:1', 'team', 1);
  store.groups.bind('tg:2', 'other', 1);
  const at = Date.UTC(2026, 3, 1, 9);
  let n = 0;
  for (const [chat, text, day] of [
    ['tg:1', 'Dentist on Friday at 10', 0],
    ['tg:2', 'The dentist of the other group', 1],
    ['tg:1', 'Remember the dentist bill', 2],
  ] as const)
    store.messages.insert({
      chatId: chat,
      platformId: `p${++n}`,
      sender: 'tg:alice',
      senderName: 'alice',
      text,
      ts: at + day * 86_400_000,
    });
  store.close();
}

beforeEach(() => {
  home = tmp();
  env = cliEnv(home, { CLAWPOD_URL: nobody });
});

describe('clawpod history search', () => {
  it('prints dated hits, newest first, with group, chat and id', async () => {
    seed();
    const r = await runCli(['history', 'search', 'dentist'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DATE\s+GROUP\s+CHAT\s+ID\s+WHO\s+SNIPPET$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4))).toEqual([
      ['2026-04-03 09:00', 'team', 'tg:1', '#3'],
      ['2026-04-02 09:00', 'other', 'tg:2', '#2'],
      ['2026-04-01 09:00', 'team', 'tg:1', '#1'],
    ]);
    expect(lines[1]).toContain('Remember the **dentist** bill');
  });

  it('--group, --since, --until and --json narrow and shape the answer', async () => {
    seed();
    const r = await runCli(
      ['history', 'search', 'dentist', '--group', 'team', '--since', '2026-04-02', '--json'],
      env,
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as HistoryResult;
    expect(res.scope).toEqual({ group: 'team', chats: ['tg:1'] });
    expect(res.hits.map((h) => h.seq)).toEqual([3]);
    const until = await runCli(['history', 'search', 'dentist', '--until', '2026-04-01'], env);
    expect(until.stdout.trim().split('\n')).toHaveLength(2); // the header and one day's hit
  });

  it('says when nothing matched; bad input is a usage error, an unknown group a failure', async () => {
    seed();
    const none = await runCli(['history', 'search', 'orthodontist'], env);
    expect(none).toMatchObject({ code: 0, stdout: 'nothing found for orthodontist\n' });
    const badTime = await runCli(['history', 'search', 'x', '--since', 'yesterday'], env);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('"yesterday" is not a time');
    expect((await runCli(['history', 'search', '---'], env)).code).toBe(2);
    expect((await runCli(['history', 'search', 'x', '-n', '0'], env)).code).toBe(2);
    const unknown = await runCli(['history', 'search', 'x', '--group', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no group "nope"');
  });

  it('works on a fresh data dir without creating a database', async () => {
    const r = await runCli(['history', 'search', 'anything'], env);
    expect(r).toMatchObject({ code: 0, stdout: 'nothing found for anything\n' });
    expect(existsSync(join(home, 'clawpod.db'))).toBe(false);
  });
});

describe('clawpod tasks add --template memory-hygiene', () => {
  it('adds the weekly hygiene task once, with its prompt; options still override', async () => {
    expect((await runCli(['groups', 'add', 'team', '--chat', 'web:team'], env)).code).toBe(0);
    const r = await runCli(['tasks', 'add', 'team', '--template', 'memory-hygiene', '--json'], env);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as {
      created: boolean;
      task: { id: string; prompt: string; type: string; value: string; contextMode: string };
    };
    expect(res.created).toBe(true);
    expect(res.task).toMatchObject({
      id: 'memory-hygiene-team',
      prompt: MEMORY_HYGIENE_PROMPT,
      type: 'cron',
      value: '0 9 * * 1',
      contextMode: 'isolated',
    });
    const again = await runCli(['tasks', 'add', 'team', '--template', 'memory-hygiene'], env);
    expect(again.stdout).toContain('task already exists: memory-hygiene-team');

    const custom = await runCli(
      [
        'tasks',
        'add',
        'team',
        '--template',
        'memory-hygiene',
        '--cron',
        '0 18 * * 0',
        '--id',
        'mh2',
        '--json',
      ],
      env,
    );
    expect(JSON.parse(custom.stdout)).toMatchObject({ task: { id: 'mh2', value: '0 18 * * 0' } });
  });

  it('an unknown template is a usage error naming the known ones', async () => {
    const r = await runCli(['tasks', 'add', 'main', '--template', 'nope'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no task template "nope" (templates: memory-hygiene)');
  });
});
