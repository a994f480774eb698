/**
 * Egress proxy benchmark (issue 4, "proxy overhead per request"): sequential POSTs with a
 * keep-alive connection to a local fake model API (test/fakes/echo-upstream.ts), p50/p99 over
 * BENCH_EGRESS_N requests (default 2,000), three ways:
 * - direct to the upstream (the baseline);
 * - through the credential proxy's unix socket (placeholder check + key injection + forward);
 * - through the in-sandbox bridge (TCP 127.0.0.1 → unix socket → proxy), the path a harness uses.
 * The overhead figures are the differences of the medians. A warm-up round runs first.
 * Run alone: `node --import tsx bench/egress.ts` (table + BENCH_JSON line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startEgressBridge } from '../src/agent/egress-bridge.js';
import { CredentialProxy } from '../src/egress/credential-proxy.js';
import { ModelCredentials } from '../src/egress/credentials.js';
import { modelRoutes } from '../src/egress/model-routes.js';
import { silentLogger } from '../src/logging/logger.js';
import { startEchoUpstream } from '../test/fakes/echo-upstream.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

const BODY = JSON.stringify({
  model: 'fake',
  max_tokens: 16,
  messages: [{ role: 'user', content: 'hi' }],
});

function post(opts: RequestOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ method: 'POST', ...opts }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

/** Latencies (ms) of `n` sequential requests made by `once`. */
async function sample(n: number, once: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await once();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export async function egressBench(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_EGRESS_N ?? 2000);
  const upstream = await startEchoUpstream({ echoHeaders: false });
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-bench-egress-'));
  const env = { ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: 'sk-bench-real' };
  const proxy = new CredentialProxy({
    routes: modelRoutes(env, new ModelCredentials(env)),
    allow: [],
    socketDir: join(dir, 'proxy'),
    log: silentLogger(),
  });
  const run = await proxy.open({ group: 'bench', session: 'ses_bench' });
  const bridge = await startEgressBridge(run.socketPath);
  const agent = () => new Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { 'content-type': 'application/json', 'x-api-key': run.placeholder };
  const direct = agent();
  const viaSocket = agent();
  const viaBridge = agent();
  const ways = {
    direct: () =>
      post({
        host: '127.0.0.1',
        port: upstream.port,
        path: '/v1/messages',
        headers,
        agent: direct,
      }),
    proxy: () =>
      post({
        socketPath: run.socketPath,
        path: '/anthropic/v1/messages',
        headers,
        agent: viaSocket,
      }),
    bridge: () =>
      post({
        host: '127.0.0.1',
        port: bridge.port,
        path: '/anthropic/v1/messages',
        headers,
        agent: viaBridge,
      }),
  };
  try {
    for (const once of Object.values(ways)) await sample(200, once); // warm-up
    const d = await sample(n, ways.direct);
    const p = await sample(n, ways.proxy);
    const b = await sample(n, ways.bridge);
    const fig = (name: string, s: number[]): Figure[] => [
      { name: `${name} p50`, value: round(percentile(s, 50)), unit: 'ms' },
      { name: `${name} p99`, value: round(percentile(s, 99)), unit: 'ms' },
    ];
    const overhead = round(percentile(b, 50) - percentile(d, 50));
    return [
      ...fig(`request direct to upstream (n=${n})`, d),
      ...fig('request through proxy socket', p),
      ...fig('request through bridge + proxy', b),
      {
        name: 'proxy overhead p50 (proxy − direct)',
        value: round(percentile(p, 50) - percentile(d, 50)),
        unit: 'ms',
      },
      {
        name: 'bridge + proxy overhead p50 (bridge − direct)',
        value: overhead,
        unit: 'ms',
        goal: '< 2 ms',
        met: overhead < 2,
      },
    ];
  } finally {
    for (const a of [direct, viaSocket, viaBridge]) a.destroy();
    await bridge.close();
    await run.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod egress', await egressBench(), machineMeta());
}
