import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserOpener } from '../../src/cli/commands/open.js';
import type { Daemon } from '../../src/daemon.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, closedPort, runCli } from '../support/cli-helpers.js';

const tmp = useTempDirs();
let d: Daemon;
let home: string;

beforeAll(async () => {
  home = tempHome();
  d = await startDaemon(home, [scriptedLauncher(() => reply('pong'))]);
});
afterAll(() => d.stop());

describe('clawpod open', () => {
  it('prints the Control UI link with its token where there is no browser', async () => {
    const env = cliEnv(home, { CLAWPOD_URL: `http://127.0.0.1:${d.port}` });
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const r = await runCli(['open'], env);
    expect(r.code).toBe(0);
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    expect(r.stdout.trim()).toBe(`http://127.0.0.1:${d.port}/#token=${token}`);
    // The link works: the page loads, and the token opens the API.
    const res = await fetch(`http://127.0.0.1:${d.port}/api/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
  });

  it('hands the link to the desktop opener when there is one', async () => {
    const bin = tmp();
    mkdirSync(bin, { recursive: true });
    const got = join(bin, 'opened');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${got}\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const env = cliEnv(home, {
      CLAWPOD_URL: `http://127.0.0.1:${d.port}`,
      DISPLAY: ':0',
      PATH: `${bin}:${process.env.PATH}`,
    });
    const r = await runCli(['open'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('opened the Control UI');
    expect(r.stdout).not.toContain('#token=');
    await expect.poll(() => readFileSync(got, 'utf8').trim(), { timeout: 5000 }).toMatch(/#token=/);
    expect((await runCli(['open', '--print'], env)).stdout).toMatch(/#token=/);
  });

  it('says how to start the daemon when none runs (exit 1)', async () => {
    const env = cliEnv(tmp(), { CLAWPOD_URL: `http://127.0.0.1:${await closedPort()}` });
    const r = await runCli(['open'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('clawpod start');
  });

  it('finds an opener only with a desktop', () => {
    expect(browserOpener({ PATH: '/usr/bin' }, 'linux')).toBeUndefined();
    expect(browserOpener({}, 'darwin')).toBe('open');
    expect(browserOpener({ DISPLAY: ':0', PATH: '/nonexistent' }, 'linux')).toBeUndefined();
    expect(browserOpener({ CLAWPOD_NO_BROWSER: '1' }, 'darwin')).toBeUndefined();
  });
});
