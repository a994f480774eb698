import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import type { AgentSessionRecord } from '../../src/store/agent-sessions.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';
import { defaultHome, nextMessage, say, startDaemon } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

// Session states are written by group commit (a burst of transitions shares one fsync): what
// `clawpod runs sessions` (its own connection) and GET /api/sessions show must still be the
// live session's true state at each step. Settings as a user gets them (30 min idle timeout).

let home: string;
let d: Daemon;
let answer!: (events: RunnerEvent[]) => void;
let inputArrived!: () => void;
let arrived = new Promise<void>((r) => (inputArrived = r));

beforeAll(async () => {
  home = defaultHome();
  const launcher = scriptedLauncher(
    () =>
      new Promise<RunnerEvent[]>((resolve) => {
        answer = resolve;
        inputArrived();
      }),
  );
  d = await startDaemon(home, [launcher]);
});

afterAll(async () => {
  await d?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function apiSessions(): Promise<AgentSessionRecord[]> {
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${d.port}/api/sessions`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as AgentSessionRecord[];
}

async function cliSessions(): Promise<AgentSessionRecord[]> {
  const r = await runCli(['runs', 'sessions', '--json'], cliEnv(home));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as AgentSessionRecord[];
}

describe('agent session rows, as the CLI and the API show them', () => {
  it('busy while answering, idle with its turn counted after, closed with the reason', async () => {
    await say(d, 'web:main', 'first question');
    await arrived;
    const live = d.pool.list()[0]!;
    expect(live.state.name).toBe('busy');
    const busy = { id: live.id, group: 'main', lane: 'main', state: 'busy', turns: 1 };
    expect(await apiSessions()).toMatchObject([busy]);
    expect(await cliSessions()).toMatchObject([busy]);

    const out = nextMessage(d, (m) => m.direction === 'out' && m.text === 'the answer');
    answer(reply('the answer'));
    await out; // delivered: the answer, and the idle state before it, are committed
    expect(live.state.name).toBe('idle');
    const idle = { ...busy, state: 'idle', endedAt: null };
    expect(await apiSessions()).toMatchObject([idle]);
    expect(await cliSessions()).toMatchObject([idle]);

    arrived = new Promise<void>((r) => (inputArrived = r));
    await say(d, 'web:main', 'second question');
    await arrived;
    expect(await apiSessions()).toMatchObject([{ ...busy, turns: 2 }]);
    const second = nextMessage(d, (m) => m.direction === 'out' && m.text === 'again');
    answer(reply('again'));
    await second;

    await d.stop(); // closes the idle session; its row is on disk before the store closes
    const closed = { id: live.id, state: 'closed', turns: 2, endReason: 'the daemon is stopping' };
    expect(await cliSessions()).toMatchObject([closed]);
  });
});
