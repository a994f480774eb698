import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';

let d: Daemon;
let base: string;
let token: string;
let user: string;
let allowlist: string;

beforeAll(async () => {
  user = mkdtempSync(join(tmpdir(), 'clawpod-api-mounts-'));
  mkdirSync(join(user, 'projects', 'app'), { recursive: true });
  mkdirSync(join(user, 'projects', 'docs'));
  allowlist = join(user, 'mount-allowlist.json');
  writeFileSync(
    allowlist,
    JSON.stringify({ allowedRoots: [{ path: join(user, 'projects'), allowReadWrite: true }] }),
  );
  const home = tempHome(`sandbox: { allowlistPath: ${JSON.stringify(allowlist)} }\n`);
  d = await startDaemon(home, [scriptedLauncher(() => reply('pong'))]);
  base = `http://127.0.0.1:${d.port}`;
  token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  d.groups.add({ name: 'coder' });
});
afterAll(async () => {
  await d.stop();
  rmSync(user, { recursive: true, force: true });
});

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(base + path, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const post = (path: string, body: unknown) =>
  api(path, { method: 'POST', body: JSON.stringify(body) });

describe('HTTP API: group mounts', () => {
  it('adds (201), replaces (200), lists with their state, removes', async () => {
    const app = join(user, 'projects', 'app');
    let r = await post('/api/groups/coder/mounts', { hostPath: app, readOnly: false });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      replaced: false,
      mount: { name: 'app', hostPath: app, sandboxPath: '/workspace/extra/app', mode: 'ro' },
    });
    expect(JSON.stringify(r.body.notes)).toContain('nonMainReadOnly');
    r = await post('/api/groups/coder/mounts', { hostPath: app, name: 'app', readOnly: true });
    expect([r.status, r.body.replaced]).toEqual([200, true]);
    r = await post('/api/groups/coder/mounts', {
      hostPath: join(user, 'projects', 'docs'),
      name: 'ref/docs',
    });
    expect(r.status).toBe(201);
    const list = await fetch(`${base}/api/groups/coder/mounts`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(
      ((await list.json()) as Array<{ name: string; mode: string }>).map((m) => m.name),
    ).toEqual(['app', 'ref/docs']);
    expect((await api('/api/groups/coder')).body.mounts).toHaveLength(2);
    r = await api(`/api/groups/coder/mounts/${encodeURIComponent('ref/docs')}`, {
      method: 'DELETE',
    });
    expect(r.status).toBe(200);
    expect((r.body.mounts as Array<{ name: string }>).map((m) => m.name)).toEqual(['app']);
    r = await api('/api/groups/coder/mounts/nope', { method: 'DELETE' });
    expect(r.status).toBe(404);
  });

  it('refuses with 403 and the rule, 400 for a bad name or body, via POST and PATCH', async () => {
    const outside = join(user, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    let r = await post('/api/groups/coder/mounts', { hostPath: outside });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining(`is not under any allowedRoots of ${allowlist}`),
    });
    r = await post('/api/groups/coder/mounts', {
      hostPath: join(user, 'projects', 'app'),
      name: '../../ipc',
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.error)).toContain("contains '..'");
    r = await post('/api/groups/coder/mounts', { hostPath: 1 });
    expect(r.status).toBe(400);
    r = await api('/api/groups/coder', {
      method: 'PATCH',
      body: JSON.stringify({ mounts: [{ hostPath: outside, name: 'x' }] }),
    });
    expect(r.status).toBe(403);
    r = await post('/api/groups/nobody/mounts', { hostPath: outside });
    expect(r.status).toBe(404);
  });
});
