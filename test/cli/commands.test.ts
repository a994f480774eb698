import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, closedPort, root, runCli } from '../support/cli-helpers.js';

const tmp = useTempDirs();
let home: string;
let env: NodeJS.ProcessEnv;
let nobody: string;

beforeAll(async () => {
  nobody = `http://127.0.0.1:${await closedPort()}`;
});

beforeEach(() => {
  home = tmp();
  // CLAWPOD_URL points at a closed port: no daemon, whatever runs on this machine.
  env = cliEnv(home, { CLAWPOD_URL: nobody });
});

describe('usage errors', () => {
  it('an unknown command exits 2', async () => {
    const r = await runCli(['frobnicate'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('an unknown option or a bad number exits 2', async () => {
    expect((await runCli(['status', '--bogus'], env)).code).toBe(2);
    expect((await runCli(['runs', 'list', '-n', 'zero'], env)).code).toBe(2);
    expect((await runCli(['send', 'web:main', 'hi', '--timeout', '-3'], env)).code).toBe(2);
  });
});

describe('clawpod status without a daemon', () => {
  it('reports from the database and says the daemon is not running', async () => {
    expect((await runCli(['groups', 'add', 'ops', '--chat', 'web:ops'], env)).code).toBe(0);
    const r = await runCli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/daemon: +not running/);
    expect(r.stdout).toContain('ops');
    expect(r.stdout).toMatch(/outbox: +pending 0, sent 0, dead 0/);
  });

  it('--json parses and says running: false', async () => {
    const r = await runCli(['status', '--json'], env);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as DaemonStatus & { url: string };
    expect(s.daemon.running).toBe(false);
    expect(s.runtime.why).toBe('daemon not running');
    expect(s.url).toBe(nobody);
    expect(s.deadLetters.count).toBe(0);
  });

  it('a bad config.yaml is exit 1 naming the key', async () => {
    writeFileSync(join(home, 'config.yaml'), 'colour: blue\n');
    const r = await runCli(['status'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('colour');
  });
});

describe('commands that need the daemon, without one', () => {
  it('send and chat say the daemon is not running (exit 1)', async () => {
    for (const args of [['send', 'web:main', 'hi'], ['chat']]) {
      const r = await runCli(args, env);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toContain(
        `the daemon is not running at ${nobody} (start it with \`clawpod start\`)`,
      );
    }
  });

  it('chat with a malformed chat id is a usage error', async () => {
    expect((await runCli(['chat', 'nochannel'], env)).code).toBe(2);
  });
});

describe('clawpod doctor', () => {
  it('prints fix lines and never a secret value', async () => {
    const secret = 'sk-test-SECRET123';
    writeFileSync(join(home, '.env'), 'OPENAI_API_KEY=sk-dotenv-SECRET456\n', { mode: 0o644 });
    const r = await runCli(['doctor'], { ...env, ANTHROPIC_API_KEY: secret });
    const out = r.stdout + r.stderr;
    expect(out).not.toContain(secret);
    expect(out).not.toContain('SECRET456');
    expect(out).toContain('✓ node');
    expect(out).toContain('ANTHROPIC_API_KEY is set');
    expect(out).toContain('OPENAI_API_KEY is set');
    // The .env readable by others is a failure with its fix.
    expect(out).toMatch(/✗ secrets file .*\.env has mode 0644/);
    expect(out).toMatch(/fix: chmod 600 .*\.env/);
    expect(r.code).toBe(1);
  });

  it('a missing credential for the default harness fails with a fix line', async () => {
    const r = await runCli(['doctor'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ claude credentials/);
    expect(r.stdout).toMatch(/fix: add ANTHROPIC_API_KEY=/);
  });

  it('--json lists the findings', async () => {
    const r = await runCli(['doctor', '--json'], { ...env, ANTHROPIC_API_KEY: 'x' });
    const results = JSON.parse(r.stdout) as Array<{ level: string; title: string }>;
    expect(results.some((c) => c.title.startsWith('node '))).toBe(true);
  });
});

describe('clawpod runs', () => {
  it('list on an empty database', async () => {
    const r = await runCli(['runs', 'list'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no runs yet');
    const j = await runCli(['runs', 'list', '--json'], env);
    expect(JSON.parse(j.stdout)).toEqual([]);
  });

  it('show of an unknown run exits 1', async () => {
    const r = await runCli(['runs', 'show', 'run_nope'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no run run_nope');
  });
});

describe('clawpod logs', () => {
  it('prints pino lines human-readably, the last -n of them', async () => {
    mkdirSync(join(home, 'logs'));
    const lines = [1, 2, 3].map((i) =>
      JSON.stringify({
        level: 30,
        time: Date.UTC(2026, 0, 1, 12, 0, i),
        pid: 1,
        part: 'runs',
        group: 'main',
        msg: `line ${i}`,
      }),
    );
    writeFileSync(join(home, 'logs', 'clawpod.log'), lines.join('\n') + '\n');
    const r = await runCli(['logs', '-n', '2'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '2026-01-01 12:00:02.000 INFO  [runs] line 2 group=main',
      '2026-01-01 12:00:03.000 INFO  [runs] line 3 group=main',
    ]);
  });
});

describe('clawpod service', () => {
  it('install --dry-run prints the unit with ExecStart and writes nothing', async () => {
    const r = await runCli(['service', 'install', '--dry-run', '--platform', 'linux'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `ExecStart="${process.execPath}" "${join(root, 'bin/clawpod')}" "start"`,
    );
    expect(r.stdout).toContain(`Environment="CLAWPOD_HOME=${home}"`);
    expect(r.stdout).toContain(
      'systemctl --user daemon-reload && systemctl --user enable --now clawpod',
    );
    expect(existsSync(join(home, '.config'))).toBe(false);
  });

  it('install writes the unit under $HOME and uninstall removes it', async () => {
    const unit = join(home, '.config/systemd/user/clawpod.service');
    const i = await runCli(['service', 'install', '--platform', 'linux'], env);
    expect(i.code).toBe(0);
    expect(readFileSync(unit, 'utf8')).toContain('Restart=on-failure');
    const u = await runCli(['service', 'uninstall', '--platform', 'linux'], env);
    expect(u.code).toBe(0);
    expect(existsSync(unit)).toBe(false);
  });

  it('install --dry-run for macOS prints a launchd plist', async () => {
    const r = await runCli(['service', 'install', '--dry-run', '--platform', 'darwin'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<key>ProgramArguments</key>');
    expect(r.stdout).toContain('launchctl bootstrap');
  });
});
