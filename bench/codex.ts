/**
 * Codex harness benchmarks (issues 4 and 16), the fake OpenAI API answering instantly, for both
 * modes: `app-server` (default: one live `codex app-server` per session) and `exec` (one
 * `codex exec` process per turn).
 * - harness alone (the real Codex binary, no sandbox): cold turn (fresh CODEX_HOME: turn start →
 *   first model request) and warm turn (app-server: the next turn on the live server; exec:
 *   `codex exec resume` in a used CODEX_HOME);
 * - the cost of approvals (app-server): a warm turn with approvals off (`askBefore: []`, policy
 *   "never") next to the default policy, and a turn whose command Codex asks about (the host
 *   side scripted: it allows at once) next to the same turn not asked;
 * - end to end in bubblewrap through the credential proxy (when bwrap and the proxy are there):
 *   cold run (message stored → sandbox + runner + Codex start → first model request) and warm
 *   follow-up (message to a live, idle runner → first model request). Goal (issue 16): warm
 *   follow-up p50 < 100 ms in app-server mode.
 * BENCH_CODEX_N rounds (default 5; cold end-to-end rounds: min(N, 3), one daemon each).
 * Run alone: `node --import tsx bench/codex.ts` (table + BENCH_JSON line).
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createCodexHarness } from '../src/agent/harnesses/codex/harness.js';
import type { Harness } from '../src/agent/harnesses/harness.js';
import { IPC_DIRS } from '../src/protocol/ipc.js';
import type { StartRequest } from '../src/protocol/runner-protocol.js';
import {
  reply,
  startFakeOpenAi,
  toolOutputs,
  type FakeOpenAi,
} from '../test/fakes/openai-server.js';
import { coldAndWarm, sandboxSkip } from './harness-e2e.js';
import { machineMeta, percentile, printReport, type Figure } from './report.js';

type Mode = 'app-server' | 'exec';
const MODEL = 'gpt-5.5';
/** Issue 16's goal for the warm follow-up in app-server mode. */
const WARM_GOAL_MS = 100;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const round = (ms: number) => Math.round(ms * 10) / 10;

function figure(name: string, samples: number[], goalMs?: number): Figure {
  const value = round(median(samples));
  return {
    name: `${name} (p50 of ${samples.length})`,
    value,
    unit: 'ms',
    ...(goalMs ? { goal: `< ${goalMs} ms`, met: value < goalMs } : {}),
  };
}

/** A group/session/ipc/global layout like the sandbox's and the harness env; `dispose` removes it. */
function layout(fake: FakeOpenAi, i: number, options: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-bench-codex-'));
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
    harnessOptions: options,
  };
  return { dir, env, start, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs one turn to its end; ms from its start to the first request, and to its result. */
async function harnessTurn(
  fake: FakeOpenAi,
  harness: Harness,
  sessionId: string | null,
  prompt = 'hello',
): Promise<{ ms: number; totalMs: number; sessionId: string | null }> {
  const seen = fake.nextRequest();
  const t0 = performance.now();
  let thread: string | null = null;
  for await (const ev of harness.turn(prompt, sessionId, new AbortController().signal)) {
    if (ev.type === 'error') throw new Error(`codex turn failed: ${ev.message}`);
    if (ev.type === 'result') thread = ev.resumeId ?? null;
  }
  const totalMs = performance.now() - t0;
  return { ms: (await seen).at - t0, totalMs, sessionId: thread };
}

/** Cold and warm turns of `mode` (app-server: the warm turn is on the same live server). */
async function harnessFigures(fake: FakeOpenAi, n: number, mode: Mode): Promise<Figure[]> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = layout(fake, i, { mode });
    const first = createCodexHarness(l.start, l.env);
    try {
      const t1 = await harnessTurn(fake, first, null);
      cold.push(t1.ms);
      // exec: a new harness resumes (what a new process per turn costs); app-server: the same one.
      const next = mode === 'exec' ? createCodexHarness(l.start, l.env) : first;
      try {
        warm.push((await harnessTurn(fake, next, t1.sessionId)).ms);
      } finally {
        if (next !== first) next.close?.();
      }
    } finally {
      first.close?.();
      l.dispose();
    }
  }
  return [
    figure(`harness ${mode}: cold turn → first model request`, cold),
    figure(`harness ${mode}: warm turn → first model request`, warm),
  ];
}

/** Answers every approve_tool request in `ipcDir` with allow, as the host does for an allowed rule. */
function allowApprovals(ipcDir: string): () => void {
  const requests = join(ipcDir, 'requests');
  const answer = () => {
    for (const name of readdirSync(requests)) {
      if (!name.endsWith('.json')) continue;
      const file = join(requests, name);
      let req: { id: string };
      try {
        req = JSON.parse(readFileSync(file, 'utf8')) as { id: string };
        rmSync(file);
      } catch {
        continue;
      }
      const tmp = join(ipcDir, 'responses', `.${req.id}.tmp`);
      writeFileSync(tmp, JSON.stringify({ id: req.id, ok: true, result: { behavior: 'allow' } }));
      renameSync(tmp, join(ipcDir, 'responses', `${req.id}.json`));
    }
  };
  const watcher = watch(requests, answer);
  return () => watcher.close();
}

/**
 * What approvals cost in app-server mode: warm turns with approvals off next to the default
 * policy, and a one-command turn (`echo hi`) asked and allowed next to the same turn not asked.
 */
async function approvalFigures(fake: FakeOpenAi, n: number): Promise<Figure[]> {
  const warmOff: number[] = [];
  const warmDefault: number[] = [];
  const asked: number[] = [];
  const notAsked: number[] = [];
  const commandThenText = (req: Parameters<typeof toolOutputs>[0]) =>
    toolOutputs(req).length === 0 || req.input.at(-1)?.type === 'message'
      ? reply.shell('echo hi')
      : reply.text('ok');
  for (const [askBefore, warm, turn] of [
    [[], warmOff, notAsked],
    [undefined, warmDefault, null],
    [['echo'], null, asked],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const l = layout(fake, i, askBefore ? { askBefore } : {});
      const stop = allowApprovals(join(l.dir, 'ipc'));
      const h = createCodexHarness(l.start, l.env);
      try {
        fake.setScript(() => reply.text('ok'));
        const t1 = await harnessTurn(fake, h, null);
        if (warm) warm.push((await harnessTurn(fake, h, t1.sessionId)).ms);
        if (turn) {
          fake.setScript(commandThenText);
          turn.push((await harnessTurn(fake, h, t1.sessionId, 'run it')).totalMs);
        }
      } finally {
        fake.setScript(() => reply.text('ok'));
        h.close?.();
        stop();
        l.dispose();
      }
    }
  }
  return [
    figure('harness app-server: warm turn, approvals off → first model request', warmOff),
    figure(
      'harness app-server: warm turn, default approval policy → first model request',
      warmDefault,
    ),
    figure('harness app-server: one-command turn, not asked (whole turn)', notAsked),
    figure('harness app-server: one-command turn, asked + allowed (whole turn)', asked),
  ];
}

async function sandboxFigures(fake: FakeOpenAi, n: number, mode: Mode): Promise<Figure[]> {
  const { cold, warm } = await coldAndWarm(
    {
      harness: 'codex',
      model: MODEL,
      env: `OPENAI_API_KEY=sk-bench\nOPENAI_BASE_URL=${fake.baseUrl}\n`,
      nextRequest: () => fake.nextRequest(),
      harnessOptions: { codex: { mode } },
    },
    n,
  );
  return [
    figure(`bubblewrap ${mode}: cold run: message → first model request`, cold),
    figure(
      `bubblewrap ${mode}: warm follow-up: message → first model request`,
      warm,
      mode === 'app-server' ? WARM_GOAL_MS : undefined,
    ),
  ];
}

export async function codexBench(): Promise<Figure[]> {
  const n = Number(process.env.BENCH_CODEX_N ?? 5);
  const fake = await startFakeOpenAi({ script: () => reply.text('ok') });
  try {
    const figures = [
      ...(await harnessFigures(fake, n, 'app-server')),
      ...(await harnessFigures(fake, n, 'exec')),
      ...(await approvalFigures(fake, n)),
    ];
    const skip = sandboxSkip('codex');
    if (skip) {
      console.warn(`codex bench: end-to-end figures skipped (${skip})`);
      return figures;
    }
    return [
      ...figures,
      ...(await sandboxFigures(fake, n, 'app-server')),
      ...(await sandboxFigures(fake, n, 'exec')),
    ];
  } finally {
    await fake.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  printReport('clawpod codex harness', await codexBench(), machineMeta());
}
