import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, closedPort, root, runCli } from '../support/cli-helpers.js';

// The rough edges a new user met, each pinned: a daemon found wherever it listens, the start
// telling the truth, chats listable and unbindable, host paths in `command` refused.

const tmp = useTempDirs();

describe('a daemon started with --port (a real `clawpod start` process, defaults)', () => {
  let child: ChildProcess;
  let home: string;
  let port: number;
  const lines: Array<{ level: number; msg: string; channel?: string; reason?: string }> = [];

  beforeAll(async () => {
    home = tempHome().replace(/$/, '');
    // A fresh data dir: no model key, and a Telegram block whose token is not set.
    writeFileSync(
      join(home, 'config.yaml'),
      'channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN }\n',
    );
    port = await closedPort();
    child = spawn(process.execPath, [join(root, 'bin/clawpod'), 'start', '--port', String(port)], {
      env: cliEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as (typeof lines)[number];
        lines.push(entry);
        if (entry.msg.startsWith('no model credential')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('warns at start that no model key is set, and how to add one', () => {
    const warn = lines.find((l) => l.msg.startsWith('no model credential'));
    expect(warn?.level).toBe(40);
    expect(warn?.msg).toContain('clawpod setup');
    expect(warn?.msg).toContain('clawpod secrets set ANTHROPIC_API_KEY');
  });

  it('warns (not info) about a configured channel it skipped for a missing setting', () => {
    const skipped = lines.find(
      (l) => l.msg.startsWith('channel skipped') && l.channel === 'telegram',
    );
    expect(skipped).toMatchObject({ level: 40, reason: 'TELEGRAM_BOT_TOKEN is not set' });
    // Channels nobody configured stay at info.
    expect(
      lines.find((l) => l.msg.startsWith('channel skipped') && l.channel === 'slack')?.level,
    ).toBe(30);
  });

  it('records its address (0600) so status and doctor find it without --port', async () => {
    const file = join(home, 'daemon.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      url: `http://127.0.0.1:${port}`,
    });
    const status = await runCli(['status'], cliEnv(home));
    expect(status.stdout).toContain(`running (pid ${child.pid}`);
    expect(status.stdout).toMatch(
      new RegExp(`dashboard: +http://127\\.0\\.0\\.1:${port}/#token=\\w+`),
    );
    const doctor = await runCli(['doctor'], cliEnv(home));
    expect(doctor.stdout).toContain(`daemon answering at http://127.0.0.1:${port}`);
    expect(doctor.stdout).toContain(
      'telegram: channels.telegram.token (env:TELEGRAM_BOT_TOKEN) has no value',
    );
  });

  it('removes its address when it stops', async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    const status = await runCli(['status'], cliEnv(home));
    expect(status.stdout).toContain('not running');
  });
});

describe('chats, unbinding, command paths, secrets (CLI against a running daemon)', () => {
  let home: string;
  let d: Daemon;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = tempHome();
    d = await startDaemon(home, [scriptedLauncher(() => reply('hi there'))]);
    env = cliEnv(home, { CLAWPOD_URL: `http://127.0.0.1:${d.port}` });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('chats list shows bound and unbound chats with channel, group and last message', async () => {
    await say(d, 'tg:4242', 'is anyone there?', 'tg:4242');
    const r = await runCli(['chats', 'list'], env);
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('tg:4242'));
    expect(row).toMatch(/^tg:4242 +tg +.* \(unbound\) .*tg:4242: is anyone there\?/);
    expect(r.stdout).toMatch(/^web:main +web .* main /m);
    expect(r.stdout).toContain('clawpod groups bind <group> tg:4242');
    const unbound = JSON.parse(
      (await runCli(['chats', 'list', '--unbound', '--json'], env)).stdout,
    );
    expect(unbound).toEqual([
      expect.objectContaining({
        jid: 'tg:4242',
        group: null,
        lastMessage: expect.objectContaining({ sender: 'tg:4242', text: 'is anyone there?' }),
      }),
    ]);
  });

  it('groups unbind frees a chat; the bind conflict names that command', async () => {
    await runCli(['groups', 'add', 'team', '--chat', 'tg:-100777'], env);
    const conflict = await runCli(['groups', 'bind', 'main', 'tg:-100777'], env);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('clawpod groups unbind team tg:-100777');
    const r = await runCli(['groups', 'unbind', 'team', 'tg:-100777'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('unbound tg:-100777 from group team');
    expect((await runCli(['groups', 'bind', 'main', 'tg:-100777'], env)).code).toBe(0);
    const again = await runCli(['groups', 'unbind', 'team', 'tg:-100777'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not bound to group "team"');
  });

  it('DELETE /api/groups/:name/chats/:chat unbinds (404 when not bound, 400 for a bad id)', async () => {
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    const del = (path: string) =>
      fetch(`http://127.0.0.1:${d.port}${path}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    d.groups.bind('main', 'slack:D0001');
    const ok = await del(`/api/groups/main/chats/${encodeURIComponent('slack:D0001')}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { chats: string[] }).chats).not.toContain('slack:D0001');
    expect((await del('/api/groups/main/chats/slack%3AD0001')).status).toBe(404);
    expect((await del('/api/groups/main/chats/nochat')).status).toBe(400);
    expect((await del('/api/groups/nobody/chats/web%3Ax')).status).toBe(404);
  });

  it('a host path as command is refused with why; --copy puts it in the group folder', async () => {
    const refused = await runCli(
      ['groups', 'set', 'main', 'harness=command', 'command=/home/me/agent.sh'],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('/home/me/agent.sh, which does not exist inside the sandbox');
    expect(refused.stderr).toContain('/workspace/group');
    expect(d.store.groups.get('main')?.command ?? null).toBeNull();

    const script = join(tmp(), 'agent.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const noCopy = await runCli(['groups', 'set', 'main', `command=${script} --fast`], env);
    expect(noCopy.code).toBe(2);
    expect(noCopy.stderr).toContain('Add --copy');
    const copied = await runCli(
      ['groups', 'set', 'main', `command=${script} --fast`, '--copy'],
      env,
    );
    expect(copied.code).toBe(0);
    expect(copied.stdout).toContain('/workspace/group/agent.sh in the sandbox');
    expect(d.store.groups.get('main')?.command).toBe('/workspace/group/agent.sh --fast');
    const inFolder = join(home, 'groups', 'main', 'agent.sh');
    expect(readFileSync(inFolder, 'utf8')).toContain('echo hi');
    expect(statSync(inFolder).mode & 0o111).not.toBe(0);
    // System programs and sandbox paths pass as they are.
    const fine = await runCli(
      ['groups', 'set', 'main', 'command=/usr/bin/env python3 /workspace/group/x.py'],
      env,
    );
    expect(fine.code).toBe(0);
  });

  it('secrets set stores a piped value in .env (0600); list shows names, never values', async () => {
    const set = await runCli(['secrets', 'set', 'ANTHROPIC_API_KEY'], env, 'sk-ant-secret-value\n');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('restart the daemon');
    const file = join(home, '.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('ANTHROPIC_API_KEY=sk-ant-secret-value');
    const list = await runCli(['secrets', 'list'], env);
    expect(list.stdout).toMatch(/ANTHROPIC_API_KEY +\.env/);
    expect(list.stdout).not.toContain('sk-ant-secret-value');
    expect((await runCli(['secrets', 'unset', 'ANTHROPIC_API_KEY'], env)).code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('ANTHROPIC_API_KEY');
  });
});
