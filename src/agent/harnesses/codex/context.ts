import { join } from 'node:path';
import type { RunnerEvent, StartRequest, Usage } from '../../../protocol/runner-protocol.js';
import { mcpServerPath } from '../../mcp/location.js';
import { resolveCodex, type CodexCommand } from './binary.js';
import {
  codexInstructions,
  prepareCodexHome,
  resolveProvider,
  type CodexProvider,
  type CodexSetup,
} from './config.js';
import type { TurnTokens } from './prices.js';
import { costUsd } from './prices.js';
import { codexOptionsSchema, DEFAULT_ASK_BEFORE, type CodexOptions } from './spec.js';
import { ThreadUsageLedger, usageFields } from './usage.js';

/** What a test may swap: the Codex command and the MCP server entry point. */
export interface CodexHarnessOptions {
  codex?: CodexCommand;
  mcpMain?: string;
}

/**
 * What both ways of driving Codex share for one runner: the setup written to CODEX_HOME, the
 * process environment, the usage ledger, and the checks before a turn can start.
 */
export interface CodexRun {
  readonly start: StartRequest;
  readonly options: CodexOptions;
  readonly setup: CodexSetup;
  readonly provider: CodexProvider;
  /** The group folder: Codex's cwd. */
  readonly groupDir: string;
  readonly ipcDir: string;
  readonly ledger: ThreadUsageLedger;
  /** For classifyFailure. */
  readonly failureCtx: { envKey: string | null; providerName: string; model: string | null };
  /** The environment Codex runs with. */
  childEnv(): Record<string, string>;
  /** The Codex command and a prepared CODEX_HOME, or the error event that ends the turn. */
  preflight(): Promise<{ ok: true; codex: CodexCommand } | { ok: false; event: RunnerEvent }>;
  /** The result's usage for a turn's tokens (cost for OpenAI models with a known price). */
  usage(tokens: TurnTokens): Usage;
}

export function codexRun(
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
  opts: CodexHarnessOptions,
): CodexRun {
  const home = env.HOME ?? '/workspace/session';
  const groupDir = env.CLAWPOD_WORKDIR ?? '/workspace/group';
  const ipcDir = env.CLAWPOD_IPC_DIR ?? '/workspace/ipc';
  const options = codexOptionsSchema.parse(start.harnessOptions ?? {});
  const mode = options.mode ?? 'app-server';
  const provider = resolveProvider(start, env);
  const setup: CodexSetup = {
    codexHome: join(home, 'codex'),
    model: start.model,
    effort: options.effort ?? null,
    provider,
    mcp: {
      command: process.execPath,
      args: [opts.mcpMain ?? mcpServerPath()],
      ipcDir,
      sessionToken: start.sessionToken,
    },
    instructions: codexInstructions(start, groupDir),
    // exec mode has nobody to answer an approval request: it never asks.
    askBefore: mode === 'exec' ? [] : (options.askBefore ?? DEFAULT_ASK_BEFORE),
  };
  const key = provider.envKey ? (env[provider.envKey] ?? start.proxy?.placeholder) : undefined;
  let prepared: Promise<void> | null = null;
  return {
    start,
    options,
    setup,
    provider,
    groupDir,
    ipcDir,
    ledger: new ThreadUsageLedger(join(setup.codexHome, 'clawpod-usage.json')),
    failureCtx: { envKey: provider.envKey, providerName: provider.name, model: start.model },
    childEnv: () => ({
      ...definedOnly(env),
      CODEX_HOME: setup.codexHome,
      ...(provider.envKey && key ? { [provider.envKey]: key } : {}),
    }),
    async preflight() {
      if (provider.envKey && !key) {
        return {
          ok: false,
          event: {
            type: 'error',
            message: `Codex has no API key: set ${provider.envKey} for clawpod (in its environment or $CLAWPOD_HOME/.env) and restart it.`,
            retryable: false,
          },
        };
      }
      let codex: CodexCommand;
      try {
        codex = opts.codex ?? resolveCodex();
      } catch (err) {
        return {
          ok: false,
          event: { type: 'error', message: (err as Error).message, retryable: false },
        };
      }
      try {
        prepared ??= prepareCodexHome(setup, env.CLAWPOD_GLOBAL_DIR ?? '/workspace/global');
        await prepared;
      } catch (err) {
        prepared = null;
        return {
          ok: false,
          event: {
            type: 'error',
            message: `could not prepare CODEX_HOME: ${(err as Error).message}`,
          },
        };
      }
      return { ok: true, codex };
    },
    usage(tokens) {
      const cost = provider.isOpenAi && start.model ? costUsd(start.model, tokens) : undefined;
      return { ...usageFields(tokens), ...(cost === undefined ? {} : { costUsd: cost }) };
    },
  };
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
