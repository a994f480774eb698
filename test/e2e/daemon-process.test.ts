import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../support/daemon-harness.js';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/clawpod');
const run = promisify(execFile);

let child: ChildProcess;
const hasScript = (() => {
  try {
    execFileSync('script', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
let home: string;
let base: string;
let env: NodeJS.ProcessEnv;
/** Everything the daemon wrote on stdout (JSON log lines: stdout is not a terminal here). */
const stdoutLines: string[] = [];

/** Starts `bin/clawpod start` and resolves with its URL once the "running" log line appears. */
function startProcess(): Promise<string> {
  child = spawn(process.execPath, [bin, 'start', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolveUrl, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      stdoutLines.push(line);
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg === 'clawpod is running' && entry.url) resolveUrl(entry.url.replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  home = tempHome();
  env = {
    PATH: process.env.PATH,
    HOME: home,
    CLAWPOD_HOME: home,
    CLAWPOD_LAUNCHER_MODULE: join(root, 'test/fixtures/echo-launcher.mjs'),
  };
  base = await startProcess();
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('bin/clawpod start as a child process', () => {
  it('answers a message posted to web:main, readable through the API', async () => {
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const events = await fetch(`${base}/api/events?chat=web:main`, { headers });
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    while (!buf.includes('event: ready')) buf += (await reader.read()).value ?? '';
    const post = await fetch(`${base}/api/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ chat: 'web:main', text: 'hello e2e' }),
    });
    expect(post.status).toBe(202);
    const { seq } = (await post.json()) as { seq: number };
    while (!buf.includes('echo: hello e2e')) buf += (await reader.read()).value ?? '';
    await reader.cancel();
    const list = (await (
      await fetch(`${base}/api/chats/web:main/messages?after=${seq}`, { headers })
    ).json()) as Array<{ direction: string; text: string }>;
    expect(list).toEqual([expect.objectContaining({ direction: 'out', text: 'echo: hello e2e' })]);
  });

  it('`clawpod send` posts and prints the reply', async () => {
    const { stdout } = await run(process.execPath, [bin, 'send', 'web:main', 'hi from the cli'], {
      env: { ...env, CLAWPOD_URL: base },
      timeout: 20_000,
    });
    expect(stdout).toContain('echo: hi from the cli');
  });

  it('keeps what it stores private: database, log and data dir are owner-only', () => {
    // After a message round trip: the WAL and shared memory exist, the log has lines.
    const mode = (p: string) => statSync(join(home, p)).mode & 0o777;
    for (const f of ['clawpod.db', 'clawpod.db-wal', 'clawpod.db-shm', 'logs/clawpod.log']) {
      expect(mode(f), f).toBe(0o600);
    }
    expect(mode('logs')).toBe(0o700);
    expect(mode('.')).toBe(0o700); // no sandbox has run, so nothing is opened for traversal
  });

  it('keeps the API token out of its log and output, and names `clawpod open` instead', () => {
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    expect(stdoutLines.join('\n')).not.toContain(token);
    expect(readFileSync(join(home, 'logs/clawpod.log'), 'utf8')).not.toContain(token);
    expect(stdoutLines.some((l) => l.includes('clawpod open'))).toBe(true);
  });

  it.skipIf(!hasScript)('prints the Control UI link with its token on a terminal', async () => {
    const tty = tempHome();
    // `script` gives the daemon a pseudo-terminal, as a person starting it has.
    const p = spawn('script', ['-qfec', `${process.execPath} ${bin} start --port 0`, '/dev/null'], {
      env: { ...env, HOME: tty, CLAWPOD_HOME: tty },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const link = await new Promise<string>((resolveLink, reject) => {
      p.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /Control UI: (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(out);
        if (m) resolveLink(m[1]!);
      });
      p.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    const token = readFileSync(join(tty, 'api-token'), 'utf8').trim();
    expect(link.endsWith(`#token=${token}`)).toBe(true);
    const page = await fetch(link.replace(/#.*/, ''));
    expect(page.status).toBe(200);
    const exited = new Promise((r) => p.once('exit', r));
    p.stdin!.write('\x03'); // Ctrl-C on the terminal: SIGINT, a clean stop
    await exited;
    expect(readFileSync(join(tty, 'logs/clawpod.log'), 'utf8')).not.toContain(token);
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
