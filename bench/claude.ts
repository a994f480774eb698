/**
 * Claude harness benchmarks (issue 4), the fake Anthropic API answering instantly:
 * - harness alone (the real Claude Code binary, no sandbox): cold turn (new harness: turn start
 *   → first model request), warm follow-up (second turn to the live process → first request),
 *   and resumed cold turn (a new harness resuming the session → first request);
 * - end to end in bubblewrap through the credential proxy (when bwrap and the proxy are there):
 *   cold run (message stored → sandbox + runner + Claude Code start → first model request) and
 *   warm follow-up (message to a live, idle runner → first model request).
 * The claude harness keeps Claude Code running between the turns of a run (streaming input), so
 * "warm" skips the process start, not only the sandbox start.
 * BENCH_CLAUDE_N rounds (default 5; cold end-to-end rounds: min(N, 3), one daemon each).
 * Run alone: `node --import tsx bench/claude.ts` (table + BENCH_JSON line).
 */
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ClaudeHarness } from '../src/agent/harnesses/claude/harness.js';
import { reply, startFakeAnthropic, type FakeAnthropic } from '../test/fakes/anthropic-server.js';
import { claudeWorld, MCP_MAIN, TEST_MODEL } from '../test/support/claude-world.js';
import { coldAndWarm, sandboxSkip } from './harness-e2e.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

const never = new AbortController().signal;
const round = (ms: number) => Math.round(ms * 10) / 10;

function figure(name: string, samples: number[], goalMs?: number): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = round(percentile(sorted, 50));
  return {
    name: `${name} (p50 of ${samples.length}, max ${round(sorted.at(-1) ?? NaN)})`,
    value,
    unit: 'ms',
    ...(goalMs ? { goal: `< ${goalMs} ms`, met: value < goalMs } : {}),
  };
}

/** One turn to its end; ms from the turn's start to the fake's first request, and the session. */
async function timedTurn(
  fake: FakeAnthropic,
  h: ClaudeHarness,
  sessionId: string | null,
): Promise<{ ms: number; sessionId: string | null }> {
  const seen = fake.nextRequest();
  const t0 = performance.now();
  let sid: string | null = null;
  for await (const ev of h.turn('hello', sessionId, never)) {
    if (ev.type === 'error') throw new Error(`claude turn failed: ${ev.message}`);
    if (ev.type === 'result') sid = ev.resumeId ?? null;
  }
  return { ms: (await seen).at - t0, sessionId: sid };
}

async function harnessFigures(fake: FakeAnthropic, n: number): Promise<Figure[]> {
  const cold: number[] = [];
  const warm: number[] = [];
  const resumed: number[] = [];
  for (let i = 0; i < n; i++) {
    const world = claudeWorld(fake.url);
    try {
      const first = new ClaudeHarness(world.start({ sessionId: `bench-${i}` }), world.env);
      const a = await timedTurn(fake, first, null);
      cold.push(a.ms);
      warm.push((await timedTurn(fake, first, a.sessionId)).ms);
      first.close();
      const again = new ClaudeHarness(world.start({ sessionId: `bench-${i}b` }), world.env);
      resumed.push((await timedTurn(fake, again, a.sessionId)).ms);
      again.close();
    } finally {
      rmSync(world.base, { recursive: true, force: true });
    }
  }
  return [
    figure('claude harness cold turn → first model request', cold, 2000),
    figure('claude harness warm follow-up → first model request', warm, 200),
    figure('claude harness resumed cold turn → first model request', resumed, 2000),
  ];
}

async function sandboxFigures(fake: FakeAnthropic, n: number): Promise<Figure[]> {
  const { cold, warm } = await coldAndWarm(
    {
      harness: 'claude',
      model: TEST_MODEL,
      env: `ANTHROPIC_API_KEY=sk-ant-bench\nANTHROPIC_BASE_URL=${fake.url}\n`,
      nextRequest: () => fake.nextRequest(),
    },
    n,
  );
  return [
    figure('claude bubblewrap cold run: message → first model request', cold, 3000),
    figure('claude bubblewrap warm follow-up: message → first model request', warm, 300),
  ];
}

export async function claudeBench(): Promise<Figure[]> {
  if (!existsSync(MCP_MAIN)) throw new Error(`${MCP_MAIN} is missing: run npm run build first`);
  const n = Number(process.env.BENCH_CLAUDE_N ?? 5);
  const fake = await startFakeAnthropic(() => reply.text('ok'));
  try {
    const figures = await harnessFigures(fake, n);
    const skip = sandboxSkip('claude');
    if (skip) {
      console.warn(`claude bench: end-to-end figures skipped (${skip})`);
      return figures;
    }
    return [...figures, ...(await sandboxFigures(fake, n))];
  } finally {
    await fake.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod claude harness', await claudeBench(), machineMeta());
}
