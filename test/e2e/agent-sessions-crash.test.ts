import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentSessionRecord } from '../../src/store/agent-sessions.js';
import { cliEnv, root, runCli } from '../support/cli-helpers.js';
import { defaultHome } from '../support/daemon-harness.js';

// Session rows are bookkeeping written by group commit; a daemon killed with SIGKILL leaves
// its live sessions' rows open, and the next start closes them (closeStale).

const home = defaultHome();
const env = cliEnv(home, {
  CLAWPOD_LAUNCHER_MODULE: join(root, 'test/fixtures/echo-launcher.mjs'),
});
let child: ChildProcess | undefined;

/** Starts `bin/clawpod start`; resolves with its URL once it logs that it is running. */
function start(): Promise<string> {
  const p = spawn(process.execPath, [join(root, 'bin/clawpod'), 'start', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = p;
  let stderr = '';
  p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolveUrl, reject) => {
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg === 'clawpod is running' && entry.url) resolveUrl(entry.url.replace(/\/$/, ''));
    });
    p.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${stderr}`)));
  });
}

async function sessions(): Promise<AgentSessionRecord[]> {
  const r = await runCli(['runs', 'sessions', '--json'], env);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as AgentSessionRecord[];
}

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(home, { recursive: true, force: true });
});

describe('agent sessions across a SIGKILL of the daemon', () => {
  it('the live idle session shows as such, and is closed at the next start', async () => {
    const url = await start();
    const sent = await runCli(['send', 'web:main', 'hello'], { ...env, CLAWPOD_URL: url });
    expect(sent.stdout).toBe('echo: hello\n');
    const [live] = await sessions();
    expect(live).toMatchObject({ group: 'main', state: 'idle', turns: 1, endedAt: null });

    const killed = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await killed;
    await start();
    expect(await sessions()).toMatchObject([
      { id: live!.id, state: 'closed', turns: 1, endReason: 'the daemon stopped' },
    ]);
  });
});
