import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunnerEvent, StartRequest } from '../../../protocol/runner-protocol.js';
import { mcpServerPath } from '../../mcp/location.js';
import type { Harness, HarnessFactory } from '../harness.js';
import { resolveCodex, type CodexCommand } from './binary.js';
import { codexInstructions, prepareCodexHome, resolveProvider, type CodexSetup } from './config.js';
import { classifyFailure, CodexTurnReader } from './events.js';
import { costUsd } from './prices.js';
import { codexOptionsSchema } from './spec.js';
import { ThreadUsageLedger, usageFields } from './usage.js';

/**
 * The `codex` harness: one `codex exec --json` process per turn (`codex exec resume <thread>`
 * after the first), with
 * - cwd = the group folder (Codex reads AGENTS.md there; CLAUDE.md as a fallback);
 * - CODEX_HOME = `$HOME/codex` (in the sandbox /workspace/session/codex: per group, kept
 *   between runs, so threads resume) with a config.toml written before every run;
 * - Codex's own sandbox and approvals off (`--dangerously-bypass-approvals-and-sandbox`):
 *   clawpod's sandbox is the boundary;
 * - the prompt on stdin (`-`), never argv (no size limit, not visible in `ps`);
 * - the clawpod MCP server (send_message, schedule_task, …) declared in config.toml;
 * - the model API at OPENAI_BASE_URL with OPENAI_API_KEY (in the sandbox: the egress bridge
 *   and the run's placeholder), or the start request's custom provider.
 * Usage is per turn (Codex reports thread totals; see usage.ts); cost from prices.ts
 * for OpenAI models with a known price. A resume whose thread is gone starts afresh once.
 */

/** What a test may swap: the Codex command and the MCP server entry point. */
export interface CodexHarnessOptions {
  codex?: CodexCommand;
  mcpMain?: string;
}

/** Codex's complaint when `exec resume` cannot find the thread. */
const THREAD_GONE = /no rollout found|thread\/resume failed|thread not found/i;
/** Grace between SIGTERM and SIGKILL when a turn is aborted. */
const KILL_GRACE_MS = 3000;

export function createCodexHarness(
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
  opts: CodexHarnessOptions = {},
): Harness {
  const home = env.HOME ?? '/workspace/session';
  const groupDir = env.CLAWPOD_WORKDIR ?? '/workspace/group';
  const options = codexOptionsSchema.parse(start.harnessOptions ?? {});
  const provider = resolveProvider(start, env);
  const setup: CodexSetup = {
    codexHome: join(home, 'codex'),
    model: start.model,
    effort: options.effort ?? null,
    provider,
    mcp: {
      command: process.execPath,
      args: [opts.mcpMain ?? mcpServerPath()],
      ipcDir: env.CLAWPOD_IPC_DIR ?? '/workspace/ipc',
      sessionToken: start.sessionToken,
    },
    instructions: codexInstructions(start, groupDir),
  };
  const ledger = new ThreadUsageLedger(join(setup.codexHome, 'clawpod-usage.json'));
  const key = provider.envKey ? (env[provider.envKey] ?? start.proxy?.placeholder) : undefined;
  const ctx = { envKey: provider.envKey, providerName: provider.name, model: start.model };
  let prepared: Promise<void> | null = null;
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
      cwd: groupDir,
      env: {
        ...definedOnly(env),
        CODEX_HOME: setup.codexHome,
        ...(provider.envKey && key ? { [provider.envKey]: key } : {}),
      },
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
          ? await ledger.turnDelta(threadId, reader.totals)
          : { ...reader.totals };
        const cost = provider.isOpenAi && start.model ? costUsd(start.model, tokens) : undefined;
        if (reader.reply?.trim()) yield { type: 'message', text: reader.reply };
        yield {
          type: 'result',
          resumeId: threadId,
          usage: { ...usageFields(tokens), ...(cost === undefined ? {} : { costUsd: cost }) },
        };
        return { threadGone: false };
      }
      if (reader.failure) {
        yield { type: 'error', ...classifyFailure(reader.failure, ctx) };
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
      if (provider.envKey && !key) {
        yield {
          type: 'error',
          message: `Codex has no API key: set ${provider.envKey} for clawpod (in its environment or $CLAWPOD_HOME/.env) and restart it.`,
          retryable: false,
        };
        return;
      }
      let codex: CodexCommand;
      try {
        codex = opts.codex ?? resolveCodex();
      } catch (err) {
        yield { type: 'error', message: (err as Error).message, retryable: false };
        return;
      }
      try {
        prepared ??= prepareCodexHome(setup, env.CLAWPOD_GLOBAL_DIR ?? '/workspace/global');
        await prepared;
      } catch (err) {
        prepared = null;
        yield { type: 'error', message: `could not prepare CODEX_HOME: ${(err as Error).message}` };
        return;
      }
      const first = yield* once(codex, prompt, sessionId, signal);
      if (!first.threadGone) return;
      yield {
        type: 'log',
        level: 'warn',
        msg: `codex thread ${sessionId} is gone; starting a fresh one`,
      };
      yield* once(codex, prompt, null, signal);
    },
    close() {
      for (const child of live) killGroup(child);
    },
  };
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
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

export const createHarness: HarnessFactory = (start, env) => createCodexHarness(start, env);
