import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';

/**
 * The agent is an adversary: inside a real bubblewrap sandbox it swaps its memory file (or
 * the memory/ folder) for a symlink to a host path, or a FIFO, then asks the host to write
 * there with `remember` / `consolidate_memory`. The host must refuse, write nothing outside the
 * group folder, and answer the agent.
 */
const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const root = resolve(import.meta.dirname, '../..');
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function boot(): Promise<{ d: Daemon; home: string }> {
  const home = tempHome(
    'runtime: bubblewrap\ndefaults: { harness: command, idleTimeoutMs: 60000 }\n',
  );
  const d = await startDaemon(home, []);
  daemons.push(d);
  return { d, home };
}

/** A group whose command first runs `attack` (sh), then sends `requests` over IPC. */
function attacker(d: Daemon, home: string, name: string, attack: string, requests: unknown[]) {
  d.groups.add({ name, chats: [`web:${name}`], requiresTrigger: false, harness: 'command' });
  mkdirSync(join(home, 'groups', name), { recursive: true });
  copyFileSync(join(root, 'test/fixtures/ipc-agent.mjs'), join(home, 'groups', name, 'agent.mjs'));
  const arg = JSON.stringify(requests).replace(/'/g, `'\\''`);
  d.groups.update(name, {
    command: `${attack} && node /workspace/group/agent.mjs '${arg}'`,
  });
}

async function turn(d: Daemon, chat: string): Promise<string> {
  const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === chat);
  await say(d, chat, 'go');
  return (await out).text;
}

describe.skipIf(!hasBwrap)('memory tools against a hostile sandbox (bubblewrap)', () => {
  it('remember does not write through a CLAUDE.md symlinked to a host file', async () => {
    const { d, home } = await boot();
    const target = join(home, 'host-file.txt');
    writeFileSync(target, 'host content\n', { mode: 0o644 });
    attacker(
      d,
      home,
      'evil',
      `rm -f /workspace/group/CLAUDE.md && ln -s ${target} /workspace/group/CLAUDE.md`,
      [{ id: 'r1', op: 'remember', args: { fact: 'written through the link' } }],
    );
    const text = await turn(d, 'web:evil');
    expect(text).toMatch(/"id":"r1","ok":false,"error":\{"code":"unsafe_path"/);
    expect(readFileSync(target, 'utf8')).toBe('host content\n');
    expect(lstatSync(join(home, 'groups', 'evil', 'CLAUDE.md')).isSymbolicLink()).toBe(true);
  });

  it('remember does not hang on a FIFO in place of CLAUDE.md', async () => {
    const { d, home } = await boot();
    attacker(
      d,
      home,
      'fifo',
      'rm -f /workspace/group/CLAUDE.md && mkfifo /workspace/group/CLAUDE.md',
      [{ id: 'f1', op: 'remember', args: { fact: 'into the pipe' } }],
    );
    expect(await turn(d, 'web:fifo')).toMatch(
      /"id":"f1","ok":false,"error":\{"code":"unsafe_path"/,
    );
  });

  it('consolidate_memory does not follow a memory/ folder symlinked to a host folder', async () => {
    const { d, home } = await boot();
    const outside = join(home, 'host-dir');
    mkdirSync(outside, { mode: 0o755 });
    attacker(
      d,
      home,
      'dirlink',
      `rm -rf /workspace/group/memory && ln -s ${outside} /workspace/group/memory`,
      [{ id: 'c1', op: 'consolidate_memory', args: { content: '# new memory\n' } }],
    );
    const before = readFileSync(join(home, 'groups', 'dirlink', 'CLAUDE.md'), 'utf8');
    expect(await turn(d, 'web:dirlink')).toMatch(
      /"id":"c1","ok":false,"error":\{"code":"unsafe_path"/,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(home, 'groups', 'dirlink', 'CLAUDE.md'), 'utf8')).toBe(before);
  });

  it('from inside the sandbox, remember and consolidate_memory work on the real file', async () => {
    const { d, home } = await boot();
    attacker(d, home, 'good', 'true', [
      { id: 'g1', op: 'remember', args: { fact: 'the plants need water on Sundays' } },
      {
        id: 'g2',
        op: 'consolidate_memory',
        args: { content: '# Memory\n- plants: water Sundays\n' },
      },
    ]);
    const text = await turn(d, 'web:good');
    expect(text).toMatch(/"id":"g1","ok":true/);
    expect(text).toMatch(/"id":"g2","ok":true/);
    const dir = join(home, 'groups', 'good');
    expect(readFileSync(join(dir, 'CLAUDE.md'), 'utf8')).toBe(
      '# Memory\n- plants: water Sundays\n',
    );
    const [kept] = readdirSync(join(dir, 'memory', 'history'));
    expect(readFileSync(join(dir, 'memory', 'history', kept!), 'utf8')).toContain(
      'the plants need water on Sundays',
    );
    // Written as the group's own (its sandbox uid when the daemon is root): it can edit them.
    const owner = lstatSync(dir).uid;
    expect(lstatSync(join(dir, 'CLAUDE.md')).uid).toBe(owner);
    expect(lstatSync(join(dir, 'memory', 'history', kept!)).uid).toBe(owner);
  });
});
