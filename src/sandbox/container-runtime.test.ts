import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appleEngine, parseAppleOrphans } from './apple.js';
import { ContainerRuntime, pickCliEnv } from './container-runtime.js';
import { dockerEnforced, dockerEngine } from './docker.js';
import { findExecutable } from './exec-util.js';
import { podmanEnforced, podmanEngine } from './podman.js';
import type { SandboxSpec } from './runtime.js';
import { collect } from './test-support.js';

const spec: SandboxSpec = {
  id: 'fake-1',
  command: ['node', 'x.js'],
  mounts: [],
  env: { A: '1' },
  workdir: '/workspace',
  uid: 1000,
  gid: 1000,
  limits: { memoryMb: 64, cpus: 1, pids: 16, wallTimeMs: 20_000 },
  network: { mode: 'none' },
};

describe('engine probes and parsing', () => {
  it('derives enforced limits from podman cgroup controllers and docker info', () => {
    expect(podmanEnforced(['cpu', 'memory', 'pids'])).toEqual(
      expect.arrayContaining(['memory', 'cpus', 'pids']),
    );
    expect(podmanEnforced(['cpu'])).not.toContain('memory');
    expect(dockerEnforced({ MemoryLimit: true, PidsLimit: false, CpuCfsQuota: true })).toEqual(
      expect.arrayContaining(['memory', 'cpus']),
    );
    expect(dockerEnforced({ MemoryLimit: true, PidsLimit: false })).not.toContain('pids');
  });

  it('finds clawpod containers in Apple container list output', () => {
    const json = JSON.stringify([
      { configuration: { id: 'clawpod-a', labels: { clawpod: '1' } } },
      { configuration: { id: 'web', labels: {} } },
      { configuration: { id: 'clawpod-b', labels: { clawpod: '1' } } },
    ]);
    expect(parseAppleOrphans(json)).toEqual(['clawpod-a', 'clawpod-b']);
    expect(parseAppleOrphans('not json')).toEqual([]);
  });

  it('passes only CLI-relevant variables to the container CLI', () => {
    expect(
      pickCliEnv({
        PATH: '/bin',
        HOME: '/root',
        ANTHROPIC_API_KEY: 'sk-secret',
        DOCKER_HOST: 'unix:///x',
      }),
    ).toEqual({
      PATH: '/bin',
      HOME: '/root',
      DOCKER_HOST: 'unix:///x',
    });
  });

  it('reports a missing binary with an install hint', async () => {
    const rt = new ContainerRuntime(podmanEngine, { searchPath: '/nonexistent', image: 'x:1' });
    const a = await rt.available();
    expect(a.ok).toBe(false);
    expect(a.reason).toMatch(/podman not found on PATH.*apt-get install/);
    expect(await rt.cleanupOrphans()).toBe(0);
  });

  const docker = findExecutable('docker', process.env.PATH ?? '');
  it.skipIf(!docker)(
    'a docker client without an engine is unavailable, with the reason',
    async () => {
      const rt = new ContainerRuntime(dockerEngine, {
        searchPath: process.env.PATH ?? '',
        image: 'x:1',
        cliEnv: { ...pickCliEnv(process.env), DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      });
      const a = await rt.available();
      expect(a.ok).toBe(false);
      expect(a.reason).toMatch(/no Docker engine answers.*Start the engine/);
    },
  );
});

describe('ContainerRuntime with a fake CLI', () => {
  let dir: string;
  let log: string;
  let bin: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clawpod-fakecli-'));
    log = join(dir, 'calls.log');
    bin = join(dir, 'fakecli');
    // run: record, then block like an attached container; kill: end the blocked "container".
    writeFileSync(
      bin,
      `#!/bin/sh
echo "$*" >> "${log}"
case "$1" in
  run) echo $$ > "${dir}/pid"; echo started; exec /bin/sleep 30 ;;
  kill) kill -9 "$(cat "${dir}/pid")" ;;
  ps) echo "id1"; echo "id2" ;;
esac
exit 0
`,
    );
    chmodSync(bin, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const calls = () => readFileSync(log, 'utf8').trim().split('\n');

  for (const [engine, rmCmd] of [
    [dockerEngine, 'rm -f clawpod-fake-1'],
    [appleEngine, 'delete --force clawpod-fake-1'],
  ] as const) {
    it(`${engine.name}: kill() asks the engine to kill, then removes the container`, async () => {
      const rt = new ContainerRuntime(engine, { searchPath: '', binaryPath: bin, image: 'img:1' });
      const h = rt.spawn(spec);
      await new Promise<void>((r) => h.stdout.once('data', () => r()));
      h.kill();
      const r = await collect(h);
      expect(r.exit.reason).toBe('killed');
      const deadline = Date.now() + 5000;
      while (!calls().includes(rmCmd) && Date.now() < deadline)
        await new Promise((res) => setImmediate(res));
      expect(calls()[0]).toMatch(
        /^run --rm -i --init --network none .*--name clawpod-fake-1 .*img:1 node x\.js$/,
      );
      expect(calls()).toContain('kill clawpod-fake-1');
      expect(calls()).toContain(rmCmd);
    });
  }

  it('cleanupOrphans lists labelled containers and removes them', async () => {
    const rt = new ContainerRuntime(podmanEngine, {
      searchPath: '',
      binaryPath: bin,
      image: 'img:1',
    });
    expect(await rt.cleanupOrphans()).toBe(2);
    expect(calls()).toEqual(['ps -a -q --filter label=clawpod=1', 'rm -f id1 id2']);
  });
});
