import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import type { AgentLauncher } from '../../src/runs/agent-process.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';
import { agentRequest } from '../support/agent-ipc.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';

/** A launcher whose agent never answers until killed (for the timeout path). */
function silentLauncher(harness: string): AgentLauncher {
  return {
    harness,
    problem: () => undefined,
    start() {
      let kill: () => void = () => undefined;
      const killed = new Promise<void>((r) => (kill = r));
      async function* events(): AsyncGenerator<RunnerEvent> {
        await killed;
        yield* [];
      }
      return {
        events: events(),
        send: () => true,
        close: () => kill(),
        kill: () => kill(),
      };
    },
  };
}

let home: string;
let daemon: Daemon;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = tempHome('shutdownTimeoutMs: 500\n');
  const claude = scriptedLauncher(async ({ prompt, spec }) => {
    const text = /<message [^>]*>([\s\S]*?)<\/message>/.exec(prompt)?.[1] ?? '';
    if (text === 'slow please') {
      // A progress note now, the answer well after the old 2 s quiet period ended the wait.
      await agentRequest(daemon, home, 'main', spec.sessionToken, 'send_message', {
        text: 'working on it…',
      });
      await new Promise((r) => setTimeout(r, 2500));
      return reply('the slow answer');
    }
    return [{ type: 'message', text: `first: ${text}` }, ...reply('second part')];
  });
  daemon = await startDaemon(home, [claude, silentLauncher('codex')]);
  env = cliEnv(home, { CLAWPOD_URL: `http://127.0.0.1:${daemon.port}` });
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('CLI against a running daemon', () => {
  it('send prints every part of the reply and exits 0', async () => {
    const r = await runCli(['send', 'web:main', 'hello there'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('first: hello there\nsecond part\n');
  });

  it('send --no-wait returns at once with the seq', async () => {
    const r = await runCli(['send', 'web:main', 'fire and forget', '--no-wait'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^sent \(seq \d+\)/);
  });

  it('send to an unbound chat says nothing will answer, and exits 1', async () => {
    const r = await runCli(['send', 'web:nobody', 'hello?'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no group is bound to web:nobody');
  });

  it('send without the trigger word says so at once, and exits 1', async () => {
    await runCli(['groups', 'add', 'team', '--chat', 'web:team'], env);
    const r = await runCli(['send', 'web:team', 'hello, anyone?'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('it does not start with the trigger @Andy');
    expect(r.stdout).toBe('');
  });

  it('send waits for the answer that comes after an early progress note', async () => {
    const r = await runCli(['send', 'web:main', 'slow please'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('working on it…\nthe slow answer\n');
  });

  it('send exits 1 with the reason when nothing can answer', async () => {
    await runCli(['groups', 'add', 'broken', '--chat', 'web:broken', '--no-trigger'], env);
    await runCli(['groups', 'set', 'broken', 'harness=command'], env);
    const r = await runCli(['send', 'web:broken', 'hi'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('⚠️'); // the chat was told why
    expect(r.stderr).toContain('the message was not answered');
    expect(r.stderr).toContain('has no command');
  });

  it('send times out with exit 1 when no reply comes', async () => {
    expect(
      (
        await runCli(
          ['groups', 'add', 'slow', '--chat', 'web:slow', '--no-trigger', '--harness', 'codex'],
          env,
        )
      ).code,
    ).toBe(0);
    const r = await runCli(['send', 'web:slow', 'anyone?', '--timeout', '1'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no reply within 1 s');
  });

  it('an API error is surfaced as its message with exit 1', async () => {
    const r = await runCli(['send', 'not-a-chat', 'x', '--no-wait'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^clawpod: chat: a chat id of the form/);
  });

  it('status reports the running daemon with the dashboard link', async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/daemon: +running \(pid \d+/);
    expect(r.stdout).toMatch(
      new RegExp(`dashboard: +http://127\\.0\\.0\\.1:${daemon.port}/#token=\\S{20,}`),
    );
    expect(r.stdout).toMatch(/web +✓ connected/);
    const j = JSON.parse((await runCli(['status', '--json'], env)).stdout) as {
      daemon: { running: boolean };
    };
    expect(j.daemon.running).toBe(true);
  });

  it('chat prints the history tail and posts typed lines', async () => {
    const r = await runCli(['chat', 'web:main'], env, 'from the terminal\n/quit\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('assistant: first: hello there');
    const stored = daemon.store.messages.listChat('web:main', 0).map((m) => m.text);
    expect(stored).toContain('from the terminal');
  });

  it('runs list shows the runs with tokens and cost', async () => {
    const r = await runCli(['runs', 'list', '--group', 'main'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/main +chat +ok/);
    expect(r.stdout).toContain('$0.0010');
  });
});
