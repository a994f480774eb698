/**
 * Codex harness benchmarks (issue 4), the fake OpenAI API answering instantly:
 * - harness alone (the real Codex binary, no sandbox): cold turn (fresh CODEX_HOME: turn start →
 *   first model request) and warm turn (`codex exec resume` in a used CODEX_HOME);
 * - end to end in bubblewrap through the credential proxy (when bwrap and the proxy are there):
 *   cold run (message stored → sandbox + runner + Codex start → first model request) and warm
 *   follow-up (message to a live, idle runner → first model request).
 * Each Codex turn is its own process, so "warm" saves the sandbox and runner start, not Codex's.
 * BENCH_CODEX_N rounds (default 5; cold end-to-end rounds: min(N, 3), one daemon each).
 * Run alone: `node --import tsx bench/codex.ts` (table + BENCH_JSON line).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createCodexHarness } from '../src/agent/harnesses/codex/harness.js';
import { IPC_DIRS } from '../src/protocol/ipc.js';
import type { StartRequest } from '../src/protocol/runner-protocol.js';
import { reply, startFakeOpenAi, type FakeOpenAi } from '../test/fakes/openai-server.js';
import { coldAndWarm, sandboxSkip } from './harness-e2e.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

const MODEL = 'gpt-5.5';
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const round = (ms: number) => Math.round(ms * 10) / 10;

function figure(name: string, samples: number[]): Figure {
  return { name: `${name} (p50 of ${samples.length})`, value: round(median(samples)), unit: 'ms' };
}

/** Runs one harness turn to its end; returns ms from its start to the fake's first request. */
async function harnessTurn(
  fake: FakeOpenAi,
  start: StartRequest,
  env: Record<string, string>,
  sessionId: string | null,
): Promise<{ ms: number; sessionId: string | null }> {
  const seen = fake.nextRequest();
  const t0 = performance.now();
  let thread: string | null = null;
  const harness = createCodexHarness(start, env);
  for await (const ev of harness.turn('hello', sessionId, new AbortController().signal)) {
    if (ev.type === 'error') throw new Error(`codex turn failed: ${ev.message}`);
    if (ev.type === 'result') thread = ev.resumeId ?? null;
  }
  return { ms: (await seen).at - t0, sessionId: thread };
}

async function harnessFigures(fake: FakeOpenAi, n: number): Promise<Figure[]> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < n; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'clawpod-bench-codex-'));
    try {
      for (const d of ['group', 'session', 'global', 'tmp']) mkdirSync(join(dir, d));
      for (const d of IPC_DIRS) mkdirSync(join(dir, 'ipc', d), { recursive: true });
      const env = {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: join(dir, 'session'),
        TMPDIR: join(dir, 'tmp'),
        CLAWPOD_WORKDIR: join(dir, 'group'),
        CLAWPOD_IPC_DIR: join(dir, 'ipc'),
        CLAWPOD_GLOBAL_DIR: join(dir, 'global'),
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'sk-bench',
      };
      const start: StartRequest = {
        type: 'start',
        sessionId: `bench-${i}`,
        sessionToken: 'bench-session-token-000',
        group: 'main',
        isMain: true,
        harness: 'codex',
        command: null,
        model: MODEL,
        resumeId: null,
        timezone: 'UTC',
        assistantName: 'Andy',
      };
      const first = await harnessTurn(fake, start, env, null);
      cold.push(first.ms);
      warm.push((await harnessTurn(fake, start, env, first.sessionId)).ms);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    figure('harness cold turn → first model request', cold),
    figure('harness warm turn (resume) → first model request', warm),
  ];
}

async function sandboxFigures(fake: FakeOpenAi, n: number): Promise<Figure[]> {
  const { cold, warm } = await coldAndWarm(
    {
      harness: 'codex',
      model: MODEL,
      env: `OPENAI_API_KEY=sk-bench\nOPENAI_BASE_URL=${fake.baseUrl}\n`,
      nextRequest: () => fake.nextRequest(),
    },
    n,
  );
  return [
    figure('bubblewrap cold run: message → first model request', cold),
    figure('bubblewrap warm follow-up: message → first model request', warm),
  ];
}

export async function codexBench(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_CODEX_N ?? 5);
  const fake = await startFakeOpenAi({ script: () => reply.text('ok') });
  try {
    const figures = await harnessFigures(fake, n);
    const skip = sandboxSkip('codex');
    if (skip) {
      console.warn(`codex bench: end-to-end figures skipped (${skip})`);
      return figures;
    }
    return [...figures, ...(await sandboxFigures(fake, n))];
  } finally {
    await fake.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod codex harness', await codexBench(), machineMeta());
}
