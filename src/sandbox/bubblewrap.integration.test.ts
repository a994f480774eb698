/**
 * Real bubblewrap sandboxes: isolation, identity, environment, network, limits. Skipped (with
 * the reason in the suite name) when bwrap is absent or cannot create sandboxes here.
 */
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BubblewrapRuntime, nodeDirIfOutsideSystem } from './bubblewrap.js';
import { MountUnreachableError } from './errors.js';
import { findExecutable } from './exec-util.js';
import { holdDirectory } from './path-descriptor.js';
import type { SandboxSpec } from './runtime.js';
import { collect, ISOLATION_PROBE, makeLayout, type TestLayout } from './test-support.js';

const searchPath = process.env.PATH ?? '/usr/bin:/bin';
const nodeDir = nodeDirIfOutsideSystem(process.execPath);
const rt = new BubblewrapRuntime({ searchPath, extraSystemPaths: nodeDir ? [nodeDir] : [] });
const bwrap = findExecutable('bwrap', searchPath);
const avail = bwrap ? await rt.available() : null;
const skipReason = !bwrap
  ? 'SKIPPED: bwrap not installed (apt-get install -y bubblewrap)'
  : !avail?.ok
    ? `SKIPPED: bwrap cannot create sandboxes here: ${avail?.reason}`
    : '';
const root = process.getuid?.() === 0;

describe.skipIf(skipReason !== '')(`bubblewrap runtime ${skipReason}`, () => {
  let layout: TestLayout;
  let server: Server;
  let port = 0;
  let tcpConnections = 0;

  beforeAll(async () => {
    server = createNetServer((c) => {
      tcpConnections++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    layout = makeLayout('team');
  });
  afterEach(() => layout.cleanup());

  const spec = (over: Partial<SandboxSpec> & { script: string; args?: string[] }): SandboxSpec => {
    const { script, args = [], ...rest } = over;
    return {
      id: 'bwrap-test',
      command: [process.execPath, '-e', script, ...args],
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
      limits: { memoryMb: 512, cpus: 1, pids: 128, wallTimeMs: 15_000 },
      network: { mode: 'none' },
      ...rest,
    };
  };

  it('reports what it enforces', () => {
    expect(avail?.enforced).toEqual(
      expect.arrayContaining([
        'wall-time',
        'network-none',
        'non-root',
        'mount-isolation',
        'memory',
        'pids',
        'cpu-time',
      ]),
    );
    expect(avail?.enforced).not.toContain('cpus');
  });

  it('isolates: declared mounts only, rw/ro as asked, non-root, explicit env, no network', async () => {
    const probes = [
      '/root',
      '/home',
      '/etc/shadow',
      '/etc/passwd',
      layout.dbPath,
      layout.dataDir,
      layout.otherGroupDir,
      layout.groupDir,
      '/workspace/extra',
    ];
    const r = await collect(
      rt.spawn(spec({ script: ISOLATION_PROBE, args: [JSON.stringify(probes), String(port)] })),
    );
    expect(r.exit).toEqual({ code: 0, signal: null });
    const out = JSON.parse(r.stdout);
    expect(out.uid).toBe(1000);
    expect(out.gid).toBe(1000);
    expect(out.groups).toEqual([1000]);
    expect(out.env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/workspace/group',
      ONLY_THIS: 'declared',
      PWD: '/workspace/group',
    });
    expect(out.writeGroup).toBe('ok');
    expect(out.readGlobal).toBe('shared knowledge');
    expect(out.writeGlobal).toBe('EROFS');
    expect(out.writeIpc).toBe('ok');
    expect(out.writeSession).toBe('ok');
    expect(out.writeRoot).toBe('EROFS');
    expect(out.writeUsr).toBe('EROFS');
    expect(out.writeTmp).toBe('ok');
    expect(out.visible).toEqual([]);
    expect(out.rootDir).not.toContain('root');
    expect(out.rootDir).not.toContain('home');
    expect(out.nestedUserns).not.toBe('ok');
    expect(out.interfaces).toEqual(['lo']);
    expect(out.tcp).toBe('ECONNREFUSED');
    expect(tcpConnections).toBe(0);
    // The file the sandbox wrote belongs to the sandbox uid on the host, not to root.
    if (root) expect(statSync(join(layout.groupDir, 'written.txt')).uid).toBe(1000);
    expect(readdirSync(layout.globalDir)).toEqual(['README.md']);
  });

  it('mounts the folder held by descriptor, not what a swap put at its path since', async () => {
    const granted = join(layout.base, 'granted');
    const other = join(layout.base, 'other');
    for (const [dir, text] of [
      [granted, 'granted'],
      [other, 'not granted'],
    ] as const) {
      mkdirSync(dir);
      writeFileSync(join(dir, 'f'), text);
    }
    const held = await holdDirectory(granted);
    // Between the check and the spawn, the folder moves away and a symlink takes its name.
    renameSync(granted, `${granted}.moved`);
    symlinkSync(other, granted);
    const read = (fd?: number) =>
      collect(
        rt.spawn(
          spec({
            script: `process.stdout.write(require('fs').readFileSync('/workspace/extra/app/f', 'utf8'))`,
            mounts: [
              ...spec({ script: '' }).mounts,
              { hostPath: granted, sandboxPath: '/workspace/extra/app', readOnly: true, fd },
            ],
          }),
        ),
      );
    try {
      const byFd = await read(held.fd);
      expect(byFd.stdout).toBe('granted');
      // By path the same mount would follow the symlink: what the descriptor prevents.
      expect((await read()).stdout).toBe('not granted');
    } finally {
      await held.close();
    }
  });

  it('socket mode: the declared host socket is reachable, TCP still is not', async () => {
    const sock = join(layout.base, 'proxy.sock');
    let received = '';
    const proxy = createNetServer((c) => c.on('data', (d) => (received += String(d))));
    await new Promise<void>((r) => proxy.listen(sock, r));
    chmodSync(sock, 0o777);
    try {
      const script = `
        const net = require('net');
        const c = net.connect('/run/clawpod/proxy.sock', () => c.end('hello proxy'));
        c.on('close', () => net.connect(${port}, '127.0.0.1').on('error', (e) => console.log(e.code)));`;
      const r = await collect(
        rt.spawn(
          spec({
            script,
            network: {
              mode: 'socket',
              hostSocketPath: sock,
              sandboxSocketPath: '/run/clawpod/proxy.sock',
            },
          }),
        ),
      );
      expect(r.stdout.trim()).toBe('ECONNREFUSED');
      expect(received).toBe('hello proxy');
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('a memory hog fails to allocate or dies at the limit, and not below it', async () => {
    // Prints the running total after each 16 MB allocation, synchronously.
    const hog = (upToMb: number) => `
      const fs = require('fs'); const a = []; let mb = 0;
      try { while (mb < ${upToMb}) { a.push(Buffer.alloc(16 << 20, 1)); mb += 16; fs.writeSync(1, mb + '\\n'); } }
      catch (e) { fs.writeSync(1, 'caught ' + e.message + '\\n'); process.exit(3); }`;
    const lastMb = (out: string) =>
      Number(
        out
          .trim()
          .split('\n')
          .filter((l) => /^\d+$/.test(l))
          .pop() ?? 0,
      );
    const limited = await collect(
      rt.spawn(
        spec({
          script: hog(2048),
          limits: { memoryMb: 128, cpus: 1, pids: 128, wallTimeMs: 15_000 },
        }),
      ),
    );
    expect(limited.exit.code).not.toBe(0);
    expect(lastMb(limited.stdout)).toBeLessThan(128);
    // Control: the same hog within a larger limit gets its 256 MB.
    const roomy = await collect(
      rt.spawn(
        spec({
          script: hog(256),
          limits: { memoryMb: 1024, cpus: 1, pids: 128, wallTimeMs: 15_000 },
        }),
      ),
    );
    expect(roomy.exit.code).toBe(0);
    expect(lastMb(roomy.stdout)).toBe(256);
  });

  it('the pids limit stops a fork storm', async () => {
    const script = `
      const cp = require('child_process'); let ok = 0, failed = 0;
      for (let i = 0; i < 60; i++) {
        try { const k = cp.spawn('/usr/bin/sleep', ['30']); if (k.pid) ok++; k.on('error', () => {}); } catch { failed++; }
      }
      console.log(JSON.stringify({ ok }));
      process.exit(0);`;
    const r = await collect(
      rt.spawn(spec({ script, limits: { memoryMb: 512, cpus: 1, pids: 32, wallTimeMs: 15_000 } })),
    );
    expect(r.exit.code).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBeLessThan(32);
  });

  it('wall time kills the whole sandbox', async () => {
    const marker = `clawpod-walltime-${process.pid}-${Date.now()}`;
    const started = Date.now();
    const h = rt.spawn(
      spec({
        script: 'setInterval(() => {}, 1000)',
        args: [marker],
        limits: { memoryMb: 256, cpus: 1, pids: 64, wallTimeMs: 500 },
      }),
    );
    const r = await collect(h);
    expect(r.exit.reason).toBe('wall-time');
    expect(r.exit.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The sandboxed node (a grandchild) dies with bwrap (--die-with-parent): poll until gone.
    const alive = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .some((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        });
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    expect(alive()).toBe(false);
  });

  it('kill() stops a running sandbox and says so', async () => {
    const h = rt.spawn(spec({ script: 'console.log("ready"); setInterval(() => {}, 1000)' }));
    await new Promise<void>((res) => h.stdout.once('data', () => res()));
    h.kill();
    const r = await collect(h);
    expect(r.exit.reason).toBe('killed');
  });

  it.skipIf(!root)('refuses a mount the sandbox uid cannot reach, saying what to chown', () => {
    chmodSync(layout.groupDir, 0o700);
    const s = spec({ script: '' });
    const uid = 4242;
    expect(() => rt.spawn({ ...s, uid, gid: uid })).toThrow(MountUnreachableError);
    expect(() => rt.spawn({ ...s, uid, gid: uid })).toThrow(/chown -R 4242:4242/);
  });
});
