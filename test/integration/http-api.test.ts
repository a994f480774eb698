import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';

let d: Daemon;
let base: string;
let token: string;
let home: string;

beforeAll(async () => {
  home = tempHome();
  d = await startDaemon(home, [scriptedLauncher(() => reply('pong'))]);
  base = `http://127.0.0.1:${d.port}`;
  token = readFileSync(join(home, 'api-token'), 'utf8').trim();
});
afterAll(() => d.stop());

const api = (path: string, init: RequestInit = {}, auth = true) =>
  fetch(base + path, {
    ...init,
    headers: {
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });

describe('HTTP API', () => {
  it('creates the token file with mode 0600', () => {
    expect(statSync(join(home, 'api-token')).mode & 0o777).toBe(0o600);
  });

  it('serves the data-free Control UI, which shows pending channel pairings', async () => {
    const page = await (await fetch(base + '/')).text();
    expect(page).toContain('<title>clawpod</title>');
    expect(page).not.toContain(token);
    const src = /src="(\/assets\/[^"]+)"/.exec(page)![1]!;
    const script = await (await fetch(base + src)).text();
    expect(script).toContain('pairing.qrText');
  });

  it('answers health without auth', async () => {
    const res = await api('/api/health', {}, false);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it.each(['/api/status', '/api/groups', '/api/runs', '/metrics', '/api/chats/web:main/messages'])(
    '401 on %s without token',
    async (path) => {
      const res = await api(path, {}, false);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    },
  );

  it('401 with a wrong token', async () => {
    const res = await fetch(base + '/api/status', { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
  });

  it('posts a message and reads the reply', async () => {
    const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
    const res = await api('/api/messages', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:main', text: 'ping' }),
    });
    expect(res.status).toBe(202);
    const { seq } = (await res.json()) as { seq: number };
    await out;
    const list = (await (
      await api(`/api/chats/web:main/messages?after=${seq - 1}`)
    ).json()) as Array<{ direction: string; text: string; seq: number }>;
    expect(list.map((m) => [m.direction, m.text])).toEqual([
      ['in', 'ping'],
      ['out', 'pong'],
    ]);
  });

  it.each([
    ['not json', 'invalid_json'],
    [JSON.stringify({ chat: 'nochannel', text: 'x' }), 'invalid_body'],
    [JSON.stringify({ chat: 'web:main', text: '' }), 'invalid_body'],
    [JSON.stringify({ chat: 'web:main', text: 'x', extra: 1 }), 'invalid_body'],
  ])('400 on bad message body %s', async (body, code) => {
    const res = await api('/api/messages', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('manages groups: add, get, patch, bind, delete, with 4xx on bad input', async () => {
    let res = await api('/api/groups', {
      method: 'POST',
      body: JSON.stringify({ name: 'family', chats: ['web:family'], trigger: '@Bot' }),
    });
    expect(res.status).toBe(201);
    res = await api('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'family' }) });
    expect(res.status).toBe(409);
    res = await api('/api/groups', { method: 'POST', body: JSON.stringify({ name: 'Bad Name' }) });
    expect(res.status).toBe(400);
    res = await api('/api/groups/family', {
      method: 'PATCH',
      body: JSON.stringify({ model: 'opus', nope: 1 }),
    });
    expect(res.status).toBe(400);
    res = await api('/api/groups/family', {
      method: 'PATCH',
      body: JSON.stringify({ model: 'opus', requiresTrigger: false }),
    });
    expect(await res.json()).toMatchObject({
      model: 'opus',
      requiresTrigger: false,
      trigger: '@Bot',
    });
    res = await api('/api/groups/family', {
      method: 'PATCH',
      body: JSON.stringify({ delegates: ['coder'] }),
    });
    expect(await res.json()).toMatchObject({ delegates: ['coder'] });
    res = await api('/api/groups/family', {
      method: 'PATCH',
      body: JSON.stringify({ delegates: ['Not A Folder'] }),
    });
    expect(res.status).toBe(400);
    res = await api('/api/groups/family/chats', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:family2' }),
    });
    expect(((await res.json()) as { chats: string[] }).chats).toEqual([
      'web:family',
      'web:family2',
    ]);
    res = await api('/api/groups/family/chats', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:main' }),
    });
    expect(res.status).toBe(409);
    expect((await api('/api/groups/main', { method: 'DELETE' })).status).toBe(403);
    expect((await api('/api/groups/family', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/api/groups/family')).status).toBe(404);
  });

  it('serves the usage ledger per group and day', async () => {
    const days = (await (await api('/api/usage?days=7')).json()) as Array<{
      group: string;
      runs: number;
      outputTokens: number;
    }>;
    expect(days.find((u) => u.group === 'main')).toMatchObject({
      runs: expect.any(Number),
      outputTokens: 5,
    });
    expect((await api('/api/usage?days=0')).status).toBe(400);
  });

  it('reports status and metrics', async () => {
    const status = (await (await api('/api/status')).json()) as {
      daemon: { running: boolean };
      groups: unknown[];
    };
    expect(status.daemon.running).toBe(true);
    expect(status.groups[0]).toMatchObject({ name: 'main', chats: ['web:main'] });
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toContain('clawpod_queue_depth');
    expect(metrics).toContain('clawpod_outbox_backlog');
    expect(metrics).toMatch(/clawpod_runs_total\{status="ok"\} \d/);
  });

  it('streams new messages over SSE', async () => {
    const ctl = new AbortController();
    const res = await api('/api/events?chat=web:main', { signal: ctl.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    while (!buf.includes('event: ready')) buf += (await reader.read()).value ?? '';
    await api('/api/messages', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:main', text: 'via sse' }),
    });
    while (!buf.includes('"text":"pong"')) buf += (await reader.read()).value ?? '';
    expect(buf).toContain('"text":"via sse"');
    ctl.abort();
  });

  // Last: the server answers before reading the body, which ends the keep-alive socket.
  it('413 on an oversized body', async () => {
    const res = await api('/api/messages', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:main', text: 'x'.repeat(2_000_000) }),
    });
    expect(res.status).toBe(413);
  });

  it('404 JSON on unknown routes', async () => {
    const res = await api('/api/nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
