import type { StartRequest } from '../../../protocol/runner-protocol.js';
import type { Harness, HarnessFactory } from '../harness.js';
import { createAppServerHarness } from './app-server.js';
import { codexRun, type CodexHarnessOptions } from './context.js';
import { createExecHarness } from './exec.js';

export type { CodexHarnessOptions } from './context.js';

/**
 * The `codex` harness, in one of two modes (option `mode`):
 * - `app-server` (default): one long-lived `codex app-server` per agent session, its thread kept
 *   across turns, Codex's approval requests answered by clawpod's guard (app-server.ts);
 * - `exec`: one `codex exec --json [resume]` process per turn, no approvals (exec.ts).
 * Both run with
 * - cwd = the group folder (Codex reads AGENTS.md there; CLAUDE.md as a fallback);
 * - CODEX_HOME = `$HOME/codex` (in the sandbox /workspace/session/codex: per group, kept
 *   between runs, so threads resume) with a config.toml written before the first turn;
 * - Codex's own sandbox off: clawpod's sandbox is the boundary;
 * - the clawpod MCP server (send_message, schedule_task, …) declared in config.toml;
 * - the model API at OPENAI_BASE_URL with OPENAI_API_KEY (in the sandbox: the egress bridge
 *   and the run's placeholder), or the start request's custom provider.
 * Usage is per turn; cost from prices.ts for OpenAI models with a known price.
 */
export function createCodexHarness(
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
  opts: CodexHarnessOptions = {},
): Harness {
  const run = codexRun(start, env, opts);
  return run.options.mode === 'exec' ? createExecHarness(run) : createAppServerHarness(run);
}

export const createHarness: HarnessFactory = (start, env) => createCodexHarness(start, env);
