/**
 * A sandbox-shaped set of temp folders (group, global, ipc, session) and the env the claude
 * harness sees in them, for running the REAL Claude Code binary outside a sandbox.
 *
 * As root, Claude Code refuses some things unless IS_SANDBOX=1; that variable is set here, in
 * the test env only. The real path runs as a non-root uid inside bubblewrap.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StartRequest } from '../../src/protocol/runner-protocol.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The MCP server bundle a sandbox runs (run `npm run build` first; `npm test` does). */
export const MCP_MAIN = join(ROOT, 'dist/agent-bundle/mcp.cjs');
/** A model id Claude Code knows the price of, so results carry a cost. */
export const TEST_MODEL = 'claude-sonnet-4-5';

export interface ClaudeWorld {
  base: string;
  group: string;
  global: string;
  ipc: string;
  session: string;
  env: Record<string, string | undefined>;
  start(over?: Partial<StartRequest>): StartRequest;
  /**
   * Answers IPC requests as the host would (`ok` with `result`), until stopped. By default
   * `approve_tool` is allowed and anything else answered `{delivered: true}`.
   */
  answerIpc(result?: (op: string, args: unknown) => unknown): { requests: unknown[]; stop(): void };
}

export function claudeWorld(
  baseUrl: string,
  extraEnv: Record<string, string | undefined> = {},
): ClaudeWorld {
  const base = mkdtempSync(join(tmpdir(), 'clawpod-claude-'));
  const dir = (name: string) => {
    const p = join(base, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const group = dir('group');
  const global = dir('global');
  const ipc = dir('ipc');
  for (const d of ['input', 'requests', 'responses', 'tasks', 'errors']) dir(`ipc/${d}`);
  const session = dir('session');
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: session,
    CLAWPOD_WORKDIR: group,
    CLAWPOD_GLOBAL_DIR: global,
    CLAWPOD_IPC_DIR: ipc,
    CLAWPOD_MCP_MAIN: MCP_MAIN,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test-harness-key-0001',
    ...(process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {}),
    ...extraEnv,
  };
  return {
    base,
    group,
    global,
    ipc,
    session,
    env,
    start: (over = {}) => ({
      type: 'start',
      sessionId: 'ses_test',
      sessionToken: 'test-session-token-0001',
      group: 'main',
      isMain: true,
      harness: 'claude',
      command: null,
      model: TEST_MODEL,
      resumeId: null,
      timezone: 'Europe/Berlin',
      assistantName: 'Andy',
      ...over,
    }),
    answerIpc: (
      result = (op: string) =>
        op === 'approve_tool' ? { behavior: 'allow' } : { delivered: true },
    ) => {
      const requests: unknown[] = [];
      const timer = setInterval(() => {
        for (const name of readdirSync(join(ipc, 'requests'))) {
          if (!name.endsWith('.json')) continue;
          const file = join(ipc, 'requests', name);
          let req: { id: string; op: string; args: unknown };
          try {
            req = JSON.parse(readFileSync(file, 'utf8')) as typeof req;
          } catch {
            continue; // not complete yet
          }
          renameSync(file, join(base, `handled-${name}`));
          requests.push(req);
          const tmp = join(ipc, 'responses', `.${req.id}.tmp`);
          writeFileSync(
            tmp,
            JSON.stringify({ id: req.id, ok: true, result: result(req.op, req.args) }),
          );
          renameSync(tmp, join(ipc, 'responses', `${req.id}.json`));
        }
      }, 10);
      return { requests, stop: () => clearInterval(timer) };
    },
  };
}
