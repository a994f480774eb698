import { readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { HistoryResult } from '../../src/memory/history-search.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';
import type { SessionSpec } from '../../src/runs/agent-process.js';
import { MEMORY_HYGIENE_PROMPT, TASK_TEMPLATES } from '../../src/memory/task-templates.js';
import { OWNER } from '../../src/tasks/task-service.js';
import { agentRequest } from '../support/agent-ipc.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

/**
 * History search and memory end to end: a real daemon (defaults but a fast retry), a scripted
 * agent that uses the tools over the real IPC file queue with its session's token.
 */
let d: Daemon;
let home: string;
/** What the agent of the next turn does with its tools; its answer is the reply. */
let tool: ((spec: SessionSpec) => Promise<ResponseFile>) | undefined;

beforeAll(async () => {
  home = tempHome();
  const launcher = scriptedLauncher(async ({ spec, prompt }) => {
    if (prompt.includes('Weekly memory hygiene')) {
      // Does what the template asks: saves a consolidated file, replies with the diff.
      const res = await agentRequest(
        d,
        home,
        spec.group.folder,
        spec.sessionToken,
        'consolidate_memory',
        {
          content: '# Memory\n\n- the wifi password is on the fridge\n',
        },
      );
      if (!res.ok) return reply(`failed: ${res.error.message}`);
      return reply(`Merged two notes.\n\`\`\`diff\n${(res.result as { diff: string }).diff}\`\`\``);
    }
    const use = tool;
    tool = undefined;
    if (!use) return reply('noted');
    return reply(JSON.stringify(await use(spec)));
  });
  d = await startDaemon(home, [launcher]);
  d.groups.add({ name: 'team', chats: ['web:team'], requiresTrigger: false });
  d.groups.add({ name: 'other', chats: ['web:other'], requiresTrigger: false });
  d.ipc.ensureGroup('team');
  d.ipc.ensureGroup('other');
});
afterAll(() => d.stop());

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

/** One turn in `chat`: the agent runs `use` and replies with the host's answer. */
async function turnWithTool(
  chat: string,
  group: string,
  op: string,
  args: Record<string, unknown>,
): Promise<ResponseFile & { sessionId: string }> {
  let session = '';
  tool = (spec) => {
    session = spec.sessionId;
    return agentRequest(d, home, group, spec.sessionToken, op, args);
  };
  const out = nextMessage(d, outIn(chat));
  await say(d, chat, `please use ${op}`);
  return { ...(JSON.parse((await out).text) as ResponseFile), sessionId: session };
}

/** Ends every live agent session (as idle expiry would) and waits until they are gone. */
async function endSessions(): Promise<void> {
  const live = d.pool.list();
  for (const s of live) s.close('test: the session ended');
  await Promise.all(live.map((s) => s.closed));
}

describe('search_history', () => {
  it("finds a message from an earlier session, never one from another group's chat", async () => {
    const first = nextMessage(d, outIn('web:team'));
    const said = await say(d, 'web:team', 'The wifi password is on the fridge, pink sticker');
    await first;
    const theirs = nextMessage(d, outIn('web:other'));
    await say(d, 'web:other', 'The wifi password of the other office is hunter2');
    await theirs;
    const earlier = d.pool.list().map((s) => s.id);
    await endSessions();

    const res = await turnWithTool('web:team', 'team', 'search_history', {
      query: 'wifi password',
    });
    expect(earlier).not.toContain(res.sessionId); // a later session
    expect(res.ok).toBe(true);
    const result = (res as { result: HistoryResult }).result;
    expect(result.hits.map((h) => h.seq)).toEqual([said.seq]);
    expect(result.hits[0]).toMatchObject({
      source: 'message',
      chat: 'web:team',
      group: 'team',
      snippet: 'The **wifi** **password** is on the fridge, pink sticker',
    });
    expect(result.hits[0]!.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('finds what the agent replied, with the run id, and refuses a chat of another group', async () => {
    const res = await turnWithTool('web:team', 'team', 'search_history', { query: 'noted' });
    const hits = (res as { result: HistoryResult }).result.hits;
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]).toMatchObject({ source: 'message', direction: 'out', role: 'reply' });
    expect(hits[0]!.runId).toMatch(/^run_/);

    const refused = await turnWithTool('web:team', 'team', 'search_history', {
      query: 'wifi',
      chat: 'web:other',
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('main sees every chat, each hit marked with its group', async () => {
    const res = await turnWithTool('web:main', 'main', 'search_history', { query: 'wifi' });
    const hits = (res as { result: HistoryResult }).result.hits;
    // Both groups' chats, each marked with its own group (replies quoting results included).
    expect(new Set(hits.map((h) => `${h.chat} ${h.group}`))).toEqual(
      new Set(['web:other other', 'web:team team']),
    );
  });

  it('bad arguments are a clear refusal, not a crash', async () => {
    const res = await turnWithTool('web:team', 'team', 'search_history', {
      query: 'wifi',
      since: 'last tuesday',
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid_query' } });
    expect((res as { error: { message: string } }).error.message).toMatch(/or an age/);
    const empty = await turnWithTool('web:team', 'team', 'search_history', { query: '-"x"' });
    expect(empty).toMatchObject({ ok: false, error: { code: 'invalid_query' } });
  });
});

describe('remember and consolidate_memory', () => {
  const memory = () => readFileSync(join(home, 'groups', 'team', 'CLAUDE.md'), 'utf8');

  it("remember appends a dated fact to the group's own memory file, once", async () => {
    const res = await turnWithTool('web:team', 'team', 'remember', {
      fact: 'The office wifi password is on the fridge',
    });
    expect(res).toMatchObject({ ok: true, result: { added: true, file: 'CLAUDE.md' } });
    expect(memory()).toMatch(
      /## Remembered\n\n- \d{4}-\d{2}-\d{2}: The office wifi password is on the fridge\n$/,
    );
    const again = await turnWithTool('web:team', 'team', 'remember', {
      fact: 'the office wifi password is on the fridge.',
    });
    expect(again).toMatchObject({ ok: true, result: { added: false } });
    expect(memory().match(/wifi/g)).toHaveLength(1);
    // Another group's memory is its own.
    expect(readFileSync(join(home, 'groups', 'other', 'CLAUDE.md'), 'utf8')).not.toContain('wifi');
  });

  it('consolidate_memory keeps the previous version and answers the diff', async () => {
    const before = memory();
    const res = await turnWithTool('web:team', 'team', 'consolidate_memory', {
      content: '# Team memory\n\n- wifi password: on the fridge\n',
    });
    expect(res.ok).toBe(true);
    const result = (res as { result: { previous: string; diff: string } }).result;
    expect(result.diff).toContain('+- wifi password: on the fridge');
    expect(memory()).toBe('# Team memory\n\n- wifi password: on the fridge\n');
    const dir = join(home, 'groups', 'team', 'memory', 'history');
    expect(readdirSync(dir)).toEqual([result.previous.split('/').pop()]);
    expect(readFileSync(join(home, 'groups', 'team', result.previous), 'utf8')).toBe(before);
  });

  it('a planted symlink in place of the memory file is refused', async () => {
    const host = join(home, 'host-secret.txt');
    writeFileSync(host, 'do not touch\n');
    rmSync(join(home, 'groups', 'other', 'CLAUDE.md'));
    symlinkSync(host, join(home, 'groups', 'other', 'CLAUDE.md'));
    const res = await turnWithTool('web:other', 'other', 'remember', { fact: 'pwned' });
    expect(res).toMatchObject({ ok: false, error: { code: 'unsafe_path' } });
    expect(readFileSync(host, 'utf8')).toBe('do not touch\n');
  });
});

describe('the memory-hygiene task template', () => {
  it('its run shows the diff in the chat and keeps the previous version in memory/history/', async () => {
    const t = TASK_TEMPLATES['memory-hygiene']!;
    const dir = join(home, 'groups', 'other');
    rmSync(join(dir, 'CLAUDE.md')); // the symlink planted above
    writeFileSync(
      join(dir, 'CLAUDE.md'),
      '# Memory\n\n- wifi on fridge\n- the wifi password is on the fridge\n',
    );
    const created = d.scheduling.tasks.create(OWNER, {
      id: t.id('other'),
      group: 'other',
      prompt: t.prompt,
      schedule: t.cron,
      contextMode: t.contextMode,
      missedPolicy: t.missedPolicy,
    });
    expect(created.task.prompt).toBe(MEMORY_HYGIENE_PROMPT);
    const out = nextMessage(d, (m) => outIn('web:other')(m) && m.text.startsWith('Merged'));
    d.scheduling.tasks.runNow(OWNER, created.id);
    const text = (await out).text;
    expect(text).toContain('```diff\n--- a/CLAUDE.md\n+++ b/CLAUDE.md\n');
    expect(text).toContain('\n-- wifi on fridge\n');
    const kept = readdirSync(join(dir, 'memory', 'history'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, 'memory', 'history', kept[0]!), 'utf8')).toContain(
      '- wifi on fridge',
    );
    // The run's transcript holds the task's prompt: a later search finds the hygiene run.
    const found = d.history.search(
      { kind: 'agent', group: 'other', isMain: false },
      { query: '"memory hygiene"' },
    );
    expect(found.hits[0]).toMatchObject({ source: 'run', role: 'prompt' });
  });
});

describe('GET /api/search', () => {
  const get = async (query: string) => {
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${d.port}/api/search?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("answers the owner's search over every chat, or one group's", async () => {
    const all = await get('q=wifi');
    expect(all.status).toBe(200);
    const chats = (all.body as unknown as HistoryResult).hits.map((h) => h.chat);
    expect(chats).toEqual(expect.arrayContaining(['web:team', 'web:other']));
    const team = await get('q=wifi&group=team&limit=5&since=30d&until=2099-01-01');
    expect(team.status).toBe(200);
    const hits = (team.body as unknown as HistoryResult).hits;
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.group === 'team')).toBe(true);
  });

  it('FTS5 syntax in q is searched as words, never a 500', async () => {
    for (const q of ['NEAR(wifi', 'wifi"', 'scope:x', 'a) OR (b', '*']) {
      const res = await get(`q=${encodeURIComponent(q)}`);
      expect([200, 400], q).toContain(res.status);
    }
    expect((await get(`q=${encodeURIComponent('wifi) OR (x')}`)).status).toBe(200);
  });

  it('bad input is a 4xx with a message', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['', 400, /q/],
      ['q=', 400, /at least one word/],
      ['q=***', 400, /nothing to search for/],
      ['q=x&limit=0', 400, /limit/],
      ['q=x&limit=abc', 400, /limit/],
      ['q=x&since=yesterday', 400, /not a time/],
      ['q=x&since=2026-02-30', 400, /not a time/],
      ['q=x&bogus=1', 400, /unknown parameter/],
      ['q=x&group=nope', 404, /no group "nope"/],
      ['q=x&since=2026-05-02&until=2026-05-01', 400, /after until/],
    ];
    for (const [query, status, message] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(status);
      expect((res.body.error as { message: string }).message, query).toMatch(message);
    }
  });
});
