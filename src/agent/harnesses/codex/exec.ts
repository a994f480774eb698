import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import type { Harness } from '../harness.js';
import type { CodexCommand } from './binary.js';
import type { CodexRun } from './context.js';
import { classifyFailure, CodexTurnReader } from './events.js';

/**
 * The codex harness's `exec` mode (the fallback): one `codex exec --json` process per turn
 * (`codex exec resume <thread>` after the first), the prompt on stdin (`-`), never argv (no size
 * limit, not visible in `ps`), Codex's own sandbox and approvals off
 * (`--dangerously-bypass-approvals-and-sandbox`). Each turn starts Codex and the clawpod MCP
 * server anew. A resume whose thread is gone starts afresh once.
 */

/** Codex's complaint when `exec resume` cannot find the thread. */
const THREAD_GONE = /no rollout found|thread\/resume failed|thread not found/i;
/** Grace between SIGTERM and SIGKILL when a turn is aborted. */
const KILL_GRACE_MS = 3000;

export function createExecHarness(run: CodexRun): Harness {
  const live = new Set<ChildProcess>();

  async function* once(
    codex: CodexCommand,
    prompt: string,
    sessionId: string | null,
    signal: AbortSignal,
  ): AsyncGenerator<RunnerEvent, { threadGone: boolean }> {
    const args = [
      ...codex.prefix,
      'exec',
      ...(sessionId ? ['resume'] : []),
      '--json',
      '--skip-git-repo-check',
      '--dangerously-bypass-approvals-and-sandbox',
      ...(sessionId ? [sessionId] : []),
      '-',
    ];
    const child = spawn(codex.command, args, {
      cwd: run.groupDir,
      env: run.childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: an abort ends Codex and what it started
    });
    live.add(child);
    const stop = () => killGroup(child);
    signal.addEventListener('abort', stop, { once: true });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(prompt);
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        stderr += String(err);
        resolve(null);
      });
      child.once('close', (code) => resolve(code));
    });
    const reader = new CodexTurnReader();
    try {
      for await (const line of createInterface({ input: child.stdout! })) {
        yield* reader.line(line);
      }
      const code = await exited;
      if (signal.aborted) {
        yield { type: 'error', message: 'the codex turn was aborted' };
        return { threadGone: false };
      }
      if (reader.totals) {
        const threadId = reader.threadId ?? sessionId;
        const tokens = threadId
          ? await run.ledger.turnDelta(threadId, reader.totals)
          : { ...reader.totals };
        if (reader.reply?.trim()) yield { type: 'message', text: reader.reply };
        yield { type: 'result', resumeId: threadId, usage: run.usage(tokens) };
        return { threadGone: false };
      }
      if (reader.failure) {
        yield { type: 'error', ...classifyFailure(reader.failure, run.failureCtx) };
        return { threadGone: false };
      }
      if (sessionId && !reader.threadId && THREAD_GONE.test(stderr)) return { threadGone: true };
      const tail = stderr.trim().split('\n').slice(-3).join(' ').slice(-500);
      yield {
        type: 'error',
        message: `codex exited with ${code ?? 'an error'} before finishing the turn${tail ? `: ${tail}` : ''}`,
      };
      return { threadGone: false };
    } finally {
      signal.removeEventListener('abort', stop);
      if (child.exitCode === null && child.signalCode === null) killGroup(child);
      live.delete(child);
    }
  }

  return {
    name: 'codex',
    async *turn(prompt, sessionId, signal): AsyncGenerator<RunnerEvent> {
      const ready = await run.preflight();
      if (!ready.ok) {
        yield ready.event;
        return;
      }
      const first = yield* once(ready.codex, prompt, sessionId, signal);
      if (!first.threadGone) return;
      yield {
        type: 'log',
        level: 'warn',
        msg: `codex thread ${sessionId} is gone; starting a fresh one`,
      };
      yield* once(ready.codex, prompt, null, signal);
    },
    close() {
      for (const child of live) killGroup(child);
    },
  };
}

/** SIGTERM to Codex's process group, SIGKILL after a grace period if it is still there. */
function killGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (!pid || child.exitCode !== null || child.signalCode !== null) return;
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), KILL_GRACE_MS);
  timer.unref();
  child.once('close', () => clearTimeout(timer));
}
