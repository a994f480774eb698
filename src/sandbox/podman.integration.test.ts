/**
 * Real podman sandboxes, using a local image built from the host's node binary (no registry).
 * Skipped, with the reason in the suite name, when podman is absent or does not work here.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from './container-args.js';
import { ContainerRuntime, pickCliEnv } from './container-runtime.js';
import { findExecutable, runProbe } from './exec-util.js';
import { podmanEngine } from './podman.js';
import type { SandboxSpec } from './runtime.js';
import { collect, ISOLATION_PROBE, makeLayout, type TestLayout } from './test-support.js';

const searchPath = process.env.PATH ?? '/usr/bin:/bin';
const podman = findExecutable('podman', searchPath);
const cliEnv = pickCliEnv(process.env);
const info = podman
  ? await runProbe(podman, ['info', '--format', 'json'], { timeoutMs: 60_000, env: cliEnv })
  : null;
const skipReason = !podman
  ? 'SKIPPED: podman not installed (apt-get install -y --no-install-recommends podman runc catatonit)'
  : info?.code !== 0
    ? `SKIPPED: podman info fails here: ${(info?.stderr ?? '').trim().split('\n').pop()}`
    : '';
const root = process.getuid?.() === 0;
const rt = new ContainerRuntime(podmanEngine, { searchPath, image: DEFAULT_IMAGE, cliEnv });
const NAMES = ['pm-probe', 'pm-oom', 'pm-wall', 'pm-orphan'];

async function containerExists(name: string): Promise<boolean> {
  const r = await runProbe(podman as string, ['container', 'exists', name], {
    timeoutMs: 30_000,
    env: cliEnv,
  });
  return r.code === 0;
}

describe.skipIf(skipReason !== '')(`podman runtime ${skipReason}`, () => {
  let layout: TestLayout;
  let server: Server;
  let port = 0;
  let tcpConnections = 0;

  beforeAll(async () => {
    const bin = podman as string;
    await runProbe(bin, ['rm', '-f', ...NAMES.map((n) => `clawpod-${n}`)], {
      timeoutMs: 60_000,
      env: cliEnv,
    });
    const exists = await runProbe(bin, ['image', 'exists', DEFAULT_IMAGE], {
      timeoutMs: 30_000,
      env: cliEnv,
    });
    if (exists.code !== 0) {
      const script = join(dirname(fileURLToPath(import.meta.url)), 'build-local-image.sh');
      execFileSync('sh', [script, 'podman', DEFAULT_IMAGE], { stdio: 'pipe' });
    }
    server = createNetServer((c) => {
      tcpConnections++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server?.close(() => r())));
  beforeEach(() => {
    layout = makeLayout('team');
  });
  afterEach(() => layout.cleanup());

  const spec = (over: Partial<SandboxSpec> & { script: string; args?: string[] }): SandboxSpec => {
    const { script, args = [], ...rest } = over;
    return {
      id: 'pm-probe',
      command: ['/usr/bin/node', '-e', script, ...args],
      mounts: [
        { hostPath: layout.groupDir, sandboxPath: '/workspace/group', readOnly: false },
        { hostPath: layout.globalDir, sandboxPath: '/workspace/global', readOnly: true },
        { hostPath: layout.ipcDir, sandboxPath: '/workspace/ipc', readOnly: false },
        { hostPath: layout.sessionDir, sandboxPath: '/workspace/session', readOnly: false },
      ],
      env: { PATH: '/usr/bin:/bin', HOME: '/workspace/group', ONLY_THIS: 'declared' },
      workdir: '/workspace/group',
      uid: 1000,
      gid: 1000,
      limits: { memoryMb: 512, cpus: 1, pids: 128, wallTimeMs: 30_000 },
      network: { mode: 'none' },
      ...rest,
    };
  };

  it('is available with cgroup limits enforced', async () => {
    const a = await rt.available();
    expect(a.ok, a.reason).toBe(true);
    expect(a.enforced).toEqual(
      expect.arrayContaining(['memory', 'cpus', 'pids', 'network-none', 'read-only-root']),
    );
  });

  it('isolates: declared mounts only, rw/ro as asked, non-root, explicit env, no network', async () => {
    const probes = [
      '/root',
      '/home',
      '/etc/shadow',
      layout.dbPath,
      layout.dataDir,
      layout.otherGroupDir,
      layout.groupDir,
    ];
    const r = await collect(
      rt.spawn(spec({ script: ISOLATION_PROBE, args: [JSON.stringify(probes), String(port)] })),
    );
    expect(r.exit, r.stderr).toEqual({ code: 0, signal: null });
    const out = JSON.parse(r.stdout);
    expect([out.uid, out.gid]).toEqual([1000, 1000]);
    expect(out.groups).toEqual([1000]);
    // podman always adds HOSTNAME (HOME is declared here); nothing else leaks in.
    const { HOSTNAME, ...env } = out.env;
    expect(HOSTNAME).toBeTypeOf('string');
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/workspace/group', ONLY_THIS: 'declared' });
    expect(out.writeGroup).toBe('ok');
    expect(out.readGlobal).toBe('shared knowledge');
    expect(out.writeGlobal).toBe('EROFS');
    expect(out.writeIpc).toBe('ok');
    expect(out.writeSession).toBe('ok');
    expect(out.writeRoot).toBe('EROFS');
    expect(out.writeTmp).toBe('ok');
    expect(out.visible).toEqual([]);
    expect(out.interfaces).toEqual(['lo']);
    expect(out.tcp).toBe('ECONNREFUSED');
    expect(tcpConnections).toBe(0);
    if (root) expect(statSync(join(layout.groupDir, 'written.txt')).uid).toBe(1000);
    expect(readdirSync(layout.globalDir)).toEqual(['README.md']);
  });

  it('the memory limit kills a hog (cgroup OOM), reported as oom', async () => {
    const script = `
      const fs = require('fs'); const a = []; let mb = 0;
      while (mb < 2048) { a.push(Buffer.alloc(16 << 20, 1)); mb += 16; fs.writeSync(1, mb + '\\n'); }`;
    const r = await collect(
      rt.spawn(
        spec({
          id: 'pm-oom',
          script,
          limits: { memoryMb: 128, cpus: 1, pids: 128, wallTimeMs: 30_000 },
        }),
      ),
    );
    expect(r.exit).toEqual({ code: 137, signal: null, reason: 'oom' });
    const last = Number(r.stdout.trim().split('\n').pop());
    expect(last).toBeLessThan(128);
  });

  it('wall time kills the container and it is removed', async () => {
    const r = await collect(
      rt.spawn(
        spec({
          id: 'pm-wall',
          script: 'setInterval(() => {}, 1000)',
          limits: { memoryMb: 256, cpus: 1, pids: 64, wallTimeMs: 1500 },
        }),
      ),
    );
    expect(r.exit.reason).toBe('wall-time');
    const deadline = Date.now() + 15_000;
    while ((await containerExists('clawpod-pm-wall')) && Date.now() < deadline);
    expect(await containerExists('clawpod-pm-wall')).toBe(false);
  });

  it('cleanupOrphans removes containers labelled clawpod=1', async () => {
    const bin = podman as string;
    const created = await runProbe(
      bin,
      [
        'create',
        '--label',
        'clawpod=1',
        '--name',
        'clawpod-pm-orphan',
        DEFAULT_IMAGE,
        '/usr/bin/node',
      ],
      { timeoutMs: 30_000, env: cliEnv },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(await rt.cleanupOrphans()).toBeGreaterThanOrEqual(1);
    expect(await containerExists('clawpod-pm-orphan')).toBe(false);
  });
});
