/**
 * The end-to-end part shared by the claude and codex benchmarks: a real daemon running the
 * harness in bubblewrap against a fake model server, timing message → first model request for a
 * cold sandbox and for follow-ups handed to the live one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findHarness } from '../src/agent/harnesses/index.js';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { silentLogger } from '../src/logging/logger.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Why the end-to-end figures cannot run here, or undefined. */
export function sandboxSkip(harness: 'claude' | 'codex'): string | undefined {
  try {
    execFileSync('bwrap', ['--version']);
  } catch {
    return 'bubblewrap is not installed';
  }
  if (!existsSync(join(ROOT, 'dist/agent-bundle/runner.cjs'))) return 'dist/ is not built';
  const sdk = findHarness(harness)!.spec.packages(process.platform, process.arch)[0]!;
  if (!existsSync(join(ROOT, 'node_modules', sdk))) return `${sdk} is not installed`;
  return undefined;
}

export interface HarnessE2e {
  harness: 'claude' | 'codex';
  model: string;
  /** The daemon's `.env` lines: the credential and the fake's base URL. */
  env: string;
  /** Resolves with the time (performance.now()) of the fake's next model request. */
  nextRequest(): Promise<{ at: number }>;
}

let seq = 0;

/** Stores a web:main message; ms to the fake's first request, after the reply `ok` arrived. */
async function message(d: Daemon, e: HarnessE2e): Promise<number> {
  const seen = e.nextRequest();
  const answered = new Promise<void>((res) => {
    const on = (m: { direction: string; text: string }) => {
      if (m.direction !== 'out' || m.text !== 'ok') return;
      d.bus.off('message', on);
      res();
    };
    d.bus.on('message', on);
  });
  const t0 = performance.now();
  await d.router.receive({
    chatId: 'web:main',
    platformId: `bench-${e.harness}-${++seq}`,
    sender: 'alice',
    senderName: 'alice',
    text: `message ${seq}`,
    ts: Date.now(),
  });
  const ms = (await seen).at - t0;
  await answered;
  return ms;
}

/** Cold runs (a new daemon and sandbox each, at most 3) and `n` warm follow-ups. */
export async function coldAndWarm(
  e: HarnessE2e,
  n: number,
): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < Math.min(n, 3); i++) {
    const home = mkdtempSync(join(tmpdir(), `clawpod-bench-${e.harness}-e2e-`));
    writeFileSync(
      join(home, 'config.yaml'),
      `http: { port: 0 }\ntimezone: UTC\nruntime: bubblewrap\ndefaults: { harness: ${e.harness}, model: ${e.model}, idleTimeoutMs: 60000 }\n`,
    );
    writeFileSync(join(home, '.env'), e.env);
    const d = new Daemon({
      config: loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH }),
      log: silentLogger(),
    });
    await d.start();
    try {
      cold.push(await message(d, e));
      // The runner stays up (idle timeout 60 s): later messages are handed to it.
      if (i === 0) for (let j = 0; j < n; j++) warm.push(await message(d, e));
    } finally {
      await d.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }
  return { cold, warm };
}
