/**
 * The credential proxy end to end: a real daemon, a real sandbox (bubblewrap; podman when it
 * and the agent image are there), the in-sandbox
 * runner's bridge, and fake upstreams on 127.0.0.1. The sandbox's command calls the model API
 * with the placeholder; the fake model sees the real key; the sandbox never does.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startEchoUpstream, type EchoUpstream } from '../fakes/echo-upstream.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';

const works = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
};
const hasBwrap = works('bwrap', ['--version']);
/** Podman with the agent image already built (sandbox-podman.test.ts builds it). */
const hasPodman =
  works('podman', ['info']) && works('podman', ['image', 'exists', 'clawpod-agent:local']);
const root = resolve(import.meta.dirname, '../..');
const REAL_KEY = 'sk-ant-api03-REAL-do-not-leak-7f3a9c';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each([
  { runtime: 'bubblewrap', skip: !hasBwrap },
  { runtime: 'podman', skip: !hasPodman },
])('credential proxy through a $runtime sandbox', ({ runtime, skip }) => {
  it.skipIf(skip)(
    'the model sees the real key, the sandbox only a placeholder; the allowlist holds',
    async () => {
      // The model echoes the headers it got (the real key among them) in its answer.
      const model: EchoUpstream = await startEchoUpstream({ reflectHeaders: ['x-api-key'] });
      const allowed = await startEchoUpstream();
      const other = await startEchoUpstream();
      cleanups.push(model.close, allowed.close, other.close);
      const home = tempHome(
        `runtime: ${runtime}\n` +
          'defaults: { harness: command, idleTimeoutMs: 60000 }\n' +
          `egress: { allow: ["127.0.0.1:${allowed.port}"] }\n`,
      );
      const d: Daemon = await startDaemon(home, [], undefined, {
        ANTHROPIC_API_KEY: REAL_KEY,
        ANTHROPIC_BASE_URL: model.url,
      });
      cleanups.push(() => d.stop());
      mkdirSync(join(home, 'groups', 'main'), { recursive: true });
      copyFileSync(
        join(root, 'test/fixtures/egress-probe.mjs'),
        join(home, 'groups', 'main', 'egress-probe.mjs'),
      );
      d.groups.update('main', {
        harness: 'command',
        command: `node /workspace/group/egress-probe.mjs ${allowed.url}/hello ${other.url}/secret`,
      });

      // The host on no list is held and the owner asked; the owner says no.
      d.bus.on('approval', (a) => {
        if (a.status === 'pending') d.guard.answer(a.id, 'deny', 'owner');
      });
      const reply = nextMessage(
        d,
        (m) => m.direction === 'out' && m.chatId === 'web:main' && m.text.startsWith('{'),
      );
      await say(d, 'web:main', 'probe');
      const text = (await reply).text;
      const seen = JSON.parse(text) as {
        env: Record<string, string>;
        environ: string;
        model: number;
        modelBody: string;
        escapes: Array<{ status: number; body: string }>;
        allowed: { status: number; body: string };
        refused: { status: number; body: string };
      };

      // The model call went through the bridge and the proxy, with the real key swapped in.
      expect(seen.model).toBe(200);
      expect(model.requests).toHaveLength(1);
      expect(model.requests[0]!.path).toBe('/v1/messages');
      expect(model.requests[0]!.headers['x-api-key']).toBe(REAL_KEY);

      // The echoed key reached the sandbox masked; the escape attempts never left the proxy.
      expect(JSON.parse(seen.modelBody).headers['x-api-key']).toBe('[redacted by clawpod]');
      expect(seen.escapes.map((e) => e.status)).toEqual([400, 400]);
      expect(model.requests.map((r) => r.path)).not.toContain('/ESCAPED');

      // Inside: only the placeholder, pointing at the bridge.
      expect(text).not.toContain(REAL_KEY);
      expect(seen.environ).not.toContain(REAL_KEY);
      expect(seen.env.ANTHROPIC_API_KEY).toMatch(/^clawpod-placeholder-[0-9a-f]{48}$/);
      expect(seen.env.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/anthropic$/);
      expect(seen.env.HTTPS_PROXY).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(model.requests[0]!.headers['x-api-key']).not.toBe(seen.env.ANTHROPIC_API_KEY);

      // The allowlisted host is reachable through HTTP_PROXY; another loopback port is not.
      expect(seen.allowed.status).toBe(200);
      expect(JSON.parse(seen.allowed.body)).toMatchObject({ path: '/hello' });
      expect(seen.refused.status).toBe(403);
      expect(seen.refused.body).toContain('the owner denied approval');
      expect(seen.refused.body).toContain('not on the allowlist of group');
      expect(d.store.approvals.list({ status: 'denied' })).toEqual([
        expect.objectContaining({
          kind: 'egress',
          subject: `127.0.0.1:${other.port}`,
          effect: expect.objectContaining({ method: 'GET', path: '/secret' }),
        }),
      ]);
      expect(other.requests).toHaveLength(0);

      const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
      const metrics = await (
        await fetch(`http://127.0.0.1:${d.port}/metrics`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).text();
      expect(metrics).toContain('clawpod_egress_refused_total{group="main"} 1');
    },
  );

  it.skipIf(skip)(
    'a new host is held inside the sandbox; always puts it on the group list and it goes through',
    async () => {
      const model = await startEchoUpstream();
      const allowed = await startEchoUpstream();
      const fresh = await startEchoUpstream();
      cleanups.push(model.close, allowed.close, fresh.close);
      const home = tempHome(
        `runtime: ${runtime}\n` +
          'defaults: { harness: command, idleTimeoutMs: 60000 }\n' +
          `egress: { allow: ["127.0.0.1:${allowed.port}"] }\n`,
      );
      const d: Daemon = await startDaemon(home, [], undefined, {
        ANTHROPIC_API_KEY: REAL_KEY,
        ANTHROPIC_BASE_URL: model.url,
      });
      cleanups.push(() => d.stop());
      mkdirSync(join(home, 'groups', 'main'), { recursive: true });
      copyFileSync(
        join(root, 'test/fixtures/egress-probe.mjs'),
        join(home, 'groups', 'main', 'egress-probe.mjs'),
      );
      // The same new host twice: the first request waits for the answer, the second does not ask.
      d.groups.update('main', {
        harness: 'command',
        command: `node /workspace/group/egress-probe.mjs ${fresh.url}/first ${fresh.url}/second`,
      });
      const asked: number[] = [];
      d.bus.on('approval', (a) => {
        if (a.status !== 'pending') return;
        asked.push(a.id);
        // Held: nothing reached the host while the owner has not answered.
        expect(fresh.requests).toHaveLength(0);
        d.guard.answer(a.id, 'always', 'owner');
      });
      const reply = nextMessage(
        d,
        (m) => m.direction === 'out' && m.chatId === 'web:main' && m.text.startsWith('{'),
      );
      await say(d, 'web:main', 'probe');
      const seen = JSON.parse((await reply).text) as {
        allowed: { status: number };
        refused: { status: number };
      };
      expect(seen.allowed.status).toBe(200);
      expect(seen.refused.status).toBe(200);
      expect(fresh.requests.map((r) => r.path)).toEqual(['/first', '/second']);
      expect(asked).toHaveLength(1);
      expect(d.guard.egressEntries('main')).toEqual([`127.0.0.1:${fresh.port}`]);
      expect(d.guard.rules('main')).toEqual([
        expect.objectContaining({
          kind: 'egress',
          effect: 'allow',
          createdBy: `approval #${asked[0]} (owner)`,
        }),
      ]);
    },
  );

  it.skipIf(skip)('a command group without egress hosts gets no network at all', async () => {
    const model = await startEchoUpstream();
    cleanups.push(model.close);
    const home = tempHome(`runtime: ${runtime}\ndefaults: { harness: command }\n`);
    const d = await startDaemon(home, [], undefined, {
      ANTHROPIC_API_KEY: REAL_KEY,
      ANTHROPIC_BASE_URL: model.url,
    });
    cleanups.push(() => d.stop());
    d.groups.update('main', {
      harness: 'command',
      command:
        'echo "proxy=${HTTPS_PROXY:-none} base=${ANTHROPIC_BASE_URL:-none}"; ls /run/clawpod 2>&1 | head -1',
    });
    const reply = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
    await say(d, 'web:main', 'probe');
    const text = (await reply).text;
    expect(text).toContain('proxy=none base=none');
    expect(text).not.toContain('proxy.sock');
  });
});
