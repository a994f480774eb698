/**
 * Host benchmarks (issue: core host): POST /api/messages → the input handed to the group's warm
 * agent session (p50/p99 over 1,000 messages, instant agent), ingest throughput through the
 * router, and idle RSS of a real `bin/clawpod start` process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { silentLogger } from '../src/logging/logger.js';
import { instantLauncher } from './instant-launcher.js';
import { percentile, type Figure } from './report.js';

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-bench-'));
  writeFileSync(join(dir, 'config.yaml'), 'http: { port: 0 }\n');
  return dir;
}

async function overhead(n: number): Promise<Figure[]> {
  let signal: (() => void) | undefined;
  const daemon = new Daemon({
    config: loadConfig({ CLAWPOD_HOME: home() }),
    log: silentLogger(),
    launchers: [instantLauncher(() => signal?.())],
  });
  await daemon.start();
  const token = readFileSync(join(daemon.status().daemon.home, 'api-token'), 'utf8').trim();
  const url = `http://127.0.0.1:${daemon.port}/api/messages`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const samples: number[] = [];
  for (let i = 0; i < n + 50; i++) {
    const invoked = new Promise<void>((r) => (signal = r));
    const t0 = performance.now();
    const res = fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ chat: 'web:main', text: `m${i}` }),
    });
    await invoked;
    const dt = performance.now() - t0;
    await res;
    if (i >= 50) samples.push(dt); // the first 50 warm up the JIT and connection
    await new Promise((r) => setImmediate(r));
  }
  await daemon.stop();
  samples.sort((a, b) => a - b);
  const p50 = percentile(samples, 50);
  return [
    {
      name: 'POST /api/messages → input handed to the warm agent p50',
      value: p50,
      unit: 'ms',
      goal: '< 5 ms',
      met: p50 < 5,
    },
    {
      name: 'POST /api/messages → input handed to the warm agent p99',
      value: percentile(samples, 99),
      unit: 'ms',
    },
  ];
}

async function ingest(n: number): Promise<Figure[]> {
  const daemon = new Daemon({
    config: loadConfig({ CLAWPOD_HOME: home() }),
    log: silentLogger(),
  });
  await daemon.start();
  daemon.groups.add({ name: 'busy', chats: ['web:busy'] });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await daemon.router.receive({
      chatJid: 'web:busy',
      platformId: `b${i}`,
      sender: 'u',
      text: `context ${i}`,
      ts: Date.now(),
    });
  }
  const secs = (performance.now() - t0) / 1000;
  await daemon.stop();
  return [
    { name: 'ingest: messages stored and routed', value: Math.round(n / secs), unit: 'msg/s' },
  ];
}

async function idleRss(): Promise<Figure[]> {
  const root = resolve(import.meta.dirname, '..');
  const env = { PATH: process.env.PATH, HOME: home(), CLAWPOD_HOME: home() };
  const child = spawn(process.execPath, [join(root, 'bin/clawpod'), 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok) =>
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('clawpod is running')) ok();
    }),
  );
  await new Promise((r) => setTimeout(r, 3000)); // let start-up garbage settle before reading
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  child.kill('SIGTERM');
  const mb = kb / 1024;
  return [
    {
      name: 'daemon RSS idle',
      value: Math.round(mb * 10) / 10,
      unit: 'MB',
      goal: '< 100 MB',
      met: mb < 100,
    },
  ];
}

export async function hostBench(): Promise<Figure[]> {
  return [...(await overhead(1000)), ...(await ingest(5000)), ...(await idleRss())];
}
