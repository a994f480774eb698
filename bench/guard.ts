/**
 * Guard benchmark, on a real Daemon at its defaults (SQLite on disk, 50 rules of the owner for
 * the group): the time the guard adds to an action it allows — `request` for a tool call, a
 * message to another chat (main), and the egress list lookup with the owner's hosts merged —
 * and the whole IPC gate for an allowed `send_message` compared with the handler alone; and the
 * round trip a Claude tool call that acts makes before it runs (`approve_tool` through the IPC
 * folder, the agent's own client, answered by the rules). Goal: p50 < 1 ms for an allowed
 * action in the guard; the round trip is reported against a model turn's seconds.
 * Run alone: `node --import tsx bench/guard.ts` (table + BENCH_JSON line).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { IpcClient } from '../src/agent/mcp/ipc-client.js';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import type { GuardAction } from '../src/guard/actions.js';
import { silentLogger } from '../src/logging/logger.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

const N = 20_000;

function timed(name: string, fn: (i: number) => void): Figure[] {
  for (let i = 0; i < 1000; i++) fn(i); // warm up (JIT, statement cache)
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const p50 = percentile(ms, 50);
  return [
    { name: `${name} p50`, value: p50, unit: 'ms', goal: '< 1 ms', met: p50 < 1 },
    { name: `${name} p99`, value: percentile(ms, 99), unit: 'ms' },
  ];
}

export async function guardBench(): Promise<Figure[]> {
  const home = mkdtempSync(join(tmpdir(), 'clawpod-bench-guard-'));
  writeFileSync(join(home, 'config.yaml'), 'http: { port: 0 }\n');
  const d = new Daemon({ config: loadConfig({ CLAWPOD_HOME: home }), log: silentLogger() });
  await d.start();
  try {
    for (let i = 0; i < 50; i++) {
      d.guard.addRule({
        group: 'main',
        kind: 'tool',
        pattern: `Bash(tool-${i}:*)`,
        effect: 'allow',
      });
      if (i % 5 === 0)
        d.guard.addRule({
          group: 'main',
          kind: 'egress',
          pattern: `host-${i}.example.com`,
          effect: 'allow',
        });
    }
    const ctx = { group: 'main', runId: 'run_bench', chat: 'web:main' };
    const tool: GuardAction = {
      kind: 'tool',
      tool: 'Bash',
      input: { command: 'npm test -- --run' },
    };
    const send: GuardAction = { kind: 'send_message', chat: 'tg:42', text: 'the weekly report' };
    const figures = [
      ...timed('allowed tool call (request)', () => {
        if (d.guard.request(tool, ctx).verdict !== 'allow') throw new Error('not allowed');
      }),
      ...timed('allowed send_message to another chat (request)', () => {
        if (d.guard.request(send, ctx).verdict !== 'allow') throw new Error('not allowed');
      }),
      ...timed("egress list with the owner's hosts (lookup)", () => {
        if (d.guard.egressEntries('main').length !== 10) throw new Error('entries');
      }),
    ];
    figures.push(...(await approveToolRoundTrip(d, home)));
    // No approval was opened: every action above was allowed by a rule.
    if (d.store.approvals.list({ status: 'all' }).length) throw new Error('an approval was asked');
    return figures;
  } finally {
    await d.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** `approve_tool` for an allowed Bash call, agent client → IPC folder → guard → answer. */
async function approveToolRoundTrip(d: Daemon, home: string): Promise<Figure[]> {
  d.ipc.ensureGroup('main');
  const client = new IpcClient(join(home, 'ipc', 'main'));
  const args = { tool: 'Bash', input: { command: 'npm test -- --run' } };
  const ms: number[] = [];
  for (let i = 0; i < 330; i++) {
    const t = performance.now();
    const r = await client.request('approve_tool', args);
    if (i >= 30) ms.push(performance.now() - t); // the first 30 warm up
    if (!r.ok || (r.result as { behavior?: string }).behavior !== 'allow')
      throw new Error('approve_tool was not allowed');
  }
  ms.sort((a, b) => a - b);
  return [
    { name: 'approve_tool round trip (IPC, allowed) p50', value: percentile(ms, 50), unit: 'ms' },
    { name: 'approve_tool round trip (IPC, allowed) p95', value: percentile(ms, 95), unit: 'ms' },
  ];
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  printReport('clawpod guard', await guardBench(), machineMeta());
}
