/**
 * Host benchmarks (issue: core host): POST /api/messages → the input handed to the group's warm
 * agent session (p50/p99 over 1,000 messages, instant agent), ingest throughput through the
 * router, durable intake over HTTP (POST → 202 with 1 and 16 concurrent posters, for
 * synchronous NORMAL, FULL and FULL with group commit), and idle RSS of a real
 * `bin/clawpod start` process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { silentLogger } from '../src/logging/logger.js';
import { instantLauncher } from './instant-launcher.js';
import { percentile, type Figure } from './report.js';

/** Every data dir a run made, removed when the suite ends. */
const homes: string[] = [];

function home(extraYaml = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-bench-'));
  homes.push(dir);
  writeFileSync(join(dir, 'config.yaml'), 'http: { port: 0 }\n' + extraYaml);
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
      chatId: 'web:busy',
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

/** How the store commits an accepted message (config `storage`). */
const intakeVariants = [
  { label: 'NORMAL', yaml: 'storage: { synchronous: normal, groupCommit: false }\n' },
  { label: 'FULL', yaml: 'storage: { synchronous: full, groupCommit: false }\n' },
  { label: 'FULL + group commit', yaml: 'storage: { synchronous: full, groupCommit: true }\n' },
];

/**
 * The posters, in a worker thread so the clients' own HTTP work does not share the daemon's
 * event loop: each of `posters` clients posts its share one request after another and times it.
 */
const posterWorker = `
const { parentPort, workerData: w } = require('node:worker_threads');
const headers = { authorization: 'Bearer ' + w.token, 'content-type': 'application/json' };
let next = 0;
const samples = [];
async function poster() {
  while (next < w.total) {
    const i = next++;
    const t0 = performance.now();
    const res = await fetch(w.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ chat: 'web:busy', text: 'context ' + w.tag + ' ' + i }),
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error('POST answered ' + res.status);
    samples.push(performance.now() - t0);
  }
}
const t0 = performance.now();
Promise.all(Array.from({ length: w.posters }, poster)).then(() =>
  parentPort.postMessage({ samples, secs: (performance.now() - t0) / 1000 }),
);
`;

/**
 * POST /api/messages → 202 over HTTP with `posters` concurrent clients, into a group chat
 * without the trigger (stored and routed, no run): the cost of acknowledging only after the
 * message is on disk. Latency per request; throughput over the whole timed part.
 */
async function postLatencies(
  daemon: Daemon,
  total: number,
  posters: number,
  tag: string,
): Promise<{ sorted: number[]; perSec: number }> {
  const token = readFileSync(join(daemon.status().daemon.home, 'api-token'), 'utf8').trim();
  const url = `http://127.0.0.1:${daemon.port}/api/messages`;
  const worker = new Worker(posterWorker, {
    eval: true,
    workerData: { url, token, total, posters, tag },
  });
  const out = await new Promise<{ samples: number[]; secs: number }>((ok, fail) => {
    worker.once('message', ok);
    worker.once('error', fail);
  });
  await worker.terminate();
  return { sorted: out.samples.sort((a, b) => a - b), perSec: total / out.secs };
}

/**
 * The store's share alone: `receivers` concurrent callers of the router (as channels call it),
 * each awaiting its message's commit before the next. Returns messages per second.
 */
async function concurrentReceive(daemon: Daemon, total: number, receivers: number) {
  let next = 0;
  const receiver = async () => {
    while (next < total) {
      const i = next++;
      await daemon.router.receive({
        chatId: 'web:busy',
        platformId: `r${i}`,
        sender: 'u',
        text: `context ${i}`,
        ts: Date.now(),
      });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: receivers }, receiver));
  return total / ((performance.now() - t0) / 1000);
}

async function durableIntake(total: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const v of intakeVariants) {
    const daemon = new Daemon({
      config: loadConfig({ CLAWPOD_HOME: home(v.yaml) }),
      log: silentLogger(),
    });
    await daemon.start();
    daemon.groups.add({ name: 'busy', chats: ['web:busy'] });
    await postLatencies(daemon, 200, 4, 'warm-up'); // JIT, connections, WAL file grown
    const one = await postLatencies(daemon, total / 4, 1, 'single');
    const many = await postLatencies(daemon, total, 16, 'concurrent');
    const stored = await concurrentReceive(daemon, total, 16);
    await daemon.stop();
    figures.push(
      {
        name: `intake ${v.label}: POST → 202 p50, 1 poster`,
        value: percentile(one.sorted, 50),
        unit: 'ms',
      },
      {
        name: `intake ${v.label}: POST → 202 p50 / 16 posters`,
        value: percentile(many.sorted, 50),
        unit: 'ms',
      },
      {
        name: `intake ${v.label}: POST → 202 p99 / 16 posters`,
        value: percentile(many.sorted, 99),
        unit: 'ms',
      },
      {
        name: `intake ${v.label}: accepted / 16 posters`,
        value: Math.round(many.perSec),
        unit: 'msg/s',
      },
      {
        name: `intake ${v.label}: stored / 16 receivers, no HTTP`,
        value: Math.round(stored),
        unit: 'msg/s',
      },
    );
  }
  return figures;
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
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
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
  try {
    return [
      ...(await overhead(1000)),
      ...(await ingest(5000)),
      ...(await durableIntake(4000)),
      ...(await idleRss()),
    ];
  } finally {
    for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
