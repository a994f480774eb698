/**
 * The in-sandbox runner and MCP server as shipped: the two bundle files alone, copied to a
 * folder with no node_modules anywhere above it, run the command harness and serve the clawpod
 * tools; a harness whose package is not mounted fails with a clear, non-retryable error.
 * Needs a built dist/ (`npm run build`; `npm test` does).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import { useTempDirs } from '../support/tmp.js';

const bundle = resolve(import.meta.dirname, '../../dist/agent-bundle');
const tmp = useTempDirs('clawpod-bundle-');

/** The bundles copied alone into a fresh folder (as a sandbox sees them, minus packages). */
function alone(): string {
  const dir = join(tmp(), 'agent');
  mkdirSync(dir);
  for (const f of ['runner.cjs', 'mcp.cjs']) copyFileSync(join(bundle, f), join(dir, f));
  return dir;
}

const start = (over: Record<string, unknown>) => ({
  type: 'start',
  sessionId: 'ses_bundle',
  sessionToken: 'bundle-session-token-01',
  group: 'main',
  isMain: true,
  harness: 'command',
  command: null,
  model: null,
  resumeId: null,
  timezone: 'UTC',
  assistantName: 'Andy',
  ...over,
});

/** Runs the runner with `lines` on stdin (then closes it); every event it wrote, and its exit code. */
async function run(
  dir: string,
  lines: unknown[],
  env: Record<string, string> = {},
): Promise<{ events: RunnerEvent[]; code: number | null }> {
  const child = spawn(process.execPath, [join(dir, 'runner.cjs')], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const events: RunnerEvent[] = [];
  const [first, ...rest] = lines;
  child.stdin.write(JSON.stringify(first) + '\n');
  // Like the host: the inputs only after `ready`, the next only after a result or an error.
  const pending = [...rest];
  const sendNext = () => {
    const next = pending.shift();
    if (next === undefined) child.stdin.end();
    else child.stdin.write(JSON.stringify(next) + '\n');
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const ev = JSON.parse(line) as RunnerEvent;
    events.push(ev);
    if (ev.type === 'ready' || ev.type === 'result' || ev.type === 'error') sendNext();
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { events, code };
}

describe.skipIf(!existsSync(join(bundle, 'runner.cjs')))('the runner bundle, alone', () => {
  it('runs the command harness with nothing but its own file', async () => {
    const dir = alone();
    const { events, code } = await run(dir, [
      start({ command: 'tr a-z A-Z' }),
      { type: 'input', id: 1, prompt: 'hello bundle' },
      { type: 'close' },
    ]);
    expect(events).toEqual([
      { type: 'ready' },
      // The command harness streams stdout as it comes, then the whole reply.
      { type: 'partial', text: 'HELLO BUNDLE' },
      { type: 'message', text: 'HELLO BUNDLE' },
      { type: 'result', resumeId: null },
    ]);
    expect(code).toBe(0);
  });

  it('refuses an unknown harness and options its harness does not take, before ready', async () => {
    const dir = alone();
    const unknown = await run(dir, [start({ harness: 'gpt' })]);
    expect(unknown.events).toEqual([
      {
        type: 'error',
        message: 'harness "gpt" is not available in this runner (have: claude, codex, command)',
        retryable: false,
      },
    ]);
    expect(unknown.code).toBe(2);
    const bad = await run(dir, [
      start({ harness: 'claude', harnessOptions: { effort: 'extreme' } }),
    ]);
    expect(bad.events).toEqual([
      {
        type: 'error',
        message: expect.stringMatching(
          /^bad claude options: effort: Invalid option: expected one of "low"/,
        ),
        retryable: false,
      },
    ]);
  });

  it('says the Claude Agent SDK is missing when its package is not mounted, not retryable', async () => {
    const dir = alone();
    const { events } = await run(
      dir,
      [
        start({ harness: 'claude', harnessOptions: { effort: 'high' } }),
        { type: 'input', id: 1, prompt: 'hi' },
      ],
      { ANTHROPIC_API_KEY: 'sk-ant-bundle-test-0001' },
    );
    expect(events[0]).toEqual({ type: 'ready' });
    expect(events[1]).toEqual({
      type: 'error',
      message: expect.stringContaining('the Claude Agent SDK could not be loaded'),
      retryable: false,
    });
  });

  it('serves the clawpod tools from the MCP bundle alone', async () => {
    const dir = alone();
    mkdirSync(join(dir, 'ipc'));
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(dir, 'mcp.cjs')],
        env: { CLAWPOD_IPC_DIR: join(dir, 'ipc'), PATH: process.env.PATH ?? '' },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['send_message', 'schedule_task', 'list_tasks']),
      );
    } finally {
      await client.close();
    }
  });
});
