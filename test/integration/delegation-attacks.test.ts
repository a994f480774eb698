import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { hasBwrap } from '../support/harness-e2e.js';

/**
 * The agent is an adversary, on both sides of a delegation: inside real bubblewrap sandboxes
 * (command harness) the delegate plants symlinks and FIFOs in its hand-off folder, and the
 * caller swaps its own hand-off folder for a symlink or names a symlink as an input file. The
 * host must copy nothing through a link, never hang, write nothing outside the group folders,
 * and say what it skipped.
 */
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

/** main's agent: runs `before` (sh), then sends `requests` over IPC and prints the answers. */
function caller(d: Daemon, home: string, before: string, requests: unknown[]): void {
  mkdirSync(join(home, 'groups', 'main'), { recursive: true });
  copyFileSync(join(root, 'test/fixtures/ipc-agent.mjs'), join(home, 'groups/main/agent.mjs'));
  const arg = JSON.stringify(requests).replace(/'/g, `'\\''`);
  d.groups.update('main', {
    harness: 'command',
    command: `${before} && node /workspace/group/agent.mjs '${arg}'`,
  });
}

async function turn(d: Daemon): Promise<string> {
  const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
  await say(d, 'web:main', 'go');
  return (await out).text;
}

describe.skipIf(!hasBwrap)(
  'delegation hand-off folders against hostile sandboxes (bubblewrap)',
  () => {
    it('copies back no symlink, FIFO or linked folder the delegate planted; the real file arrives', async () => {
      const { d, home } = await boot();
      const secret = join(home, 'host-secret.txt');
      writeFileSync(secret, 'host only\n');
      d.groups.add({
        name: 'evil',
        harness: 'command',
        command: [
          'cd /workspace/group/handoff/*/',
          `ln -s ${secret} leak.txt`,
          `ln -s ${home} hostdir`,
          'mkfifo pipe',
          'echo real > result.txt',
          'echo planted',
        ].join(' && '),
      });
      caller(d, home, 'true', [{ id: 'd1', op: 'delegate', args: { group: 'evil', prompt: 'x' } }]);
      const text = await turn(d);
      const answer = JSON.parse(text) as {
        ok: boolean;
        result: {
          delegation: string;
          reply: string;
          files: Array<{ path: string }>;
          skipped: Array<{ path: string; skipped: string }>;
        };
      };
      expect(answer.ok).toBe(true);
      const id = answer.result.delegation;
      const base = `/workspace/group/handoff/${id}`;
      expect(answer.result.files.map((f) => f.path)).toEqual([`${base}/result.txt`]);
      expect(answer.result.skipped.map((s) => [s.path, s.skipped]).sort()).toEqual([
        [`${base}/hostdir`, 'not a regular file (symlink)'],
        [`${base}/leak.txt`, 'not a regular file (symlink)'],
        [`${base}/pipe`, 'not a regular file (other)'],
      ]);
      const copied = join(home, 'groups/main/handoff', id);
      expect(readdirSync(copied)).toEqual(['result.txt']);
    });

    it("writes nothing through the caller's hand-off folder swapped for a symlink", async () => {
      const { d, home } = await boot();
      const outside = join(home, 'outside');
      mkdirSync(outside);
      d.groups.add({
        name: 'helper',
        harness: 'command',
        command: 'cd /workspace/group/handoff/*/ && echo made > made.txt && echo done',
      });
      caller(
        d,
        home,
        `rm -rf /workspace/group/handoff && ln -s ${outside} /workspace/group/handoff`,
        [{ id: 'd2', op: 'delegate', args: { group: 'helper', prompt: 'x' } }],
      );
      const answer = JSON.parse(await turn(d)) as {
        result: { files: unknown[]; skipped: Array<{ skipped: string }> };
      };
      expect(answer).toMatchObject({ ok: true, result: { reply: 'done' } });
      expect(answer.result.files).toEqual([]);
      expect(answer.result.skipped[0]!.skipped).toMatch(/could not be copied to the caller/);
      expect(readdirSync(outside)).toEqual([]);
      expect(lstatSync(join(home, 'groups/main/handoff')).isSymbolicLink()).toBe(true);
    });

    it('refuses an input file that is a symlink to a host file, and hands nothing over', async () => {
      const { d, home } = await boot();
      const secret = join(home, 'host-secret.txt');
      writeFileSync(secret, 'host only\n');
      d.groups.add({ name: 'helper', harness: 'command', command: 'echo never' });
      caller(d, home, `ln -sf ${secret} /workspace/group/notes.txt`, [
        {
          id: 'd3',
          op: 'delegate',
          args: { group: 'helper', prompt: 'x', files: ['/workspace/group/notes.txt'] },
        },
      ]);
      const answer = JSON.parse(await turn(d)) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_files' } });
      expect(answer.error.message).toMatch(/cannot hand over \/workspace\/group\/notes.txt/);
      expect(answer.error.message).not.toContain(home);
      const handoff = join(home, 'groups/helper/handoff');
      const copied = existsSync(handoff)
        ? readdirSync(handoff).flatMap((dir) => readdirSync(join(handoff, dir)))
        : [];
      expect(copied).toEqual([]);
      expect(d.store.runs.list({ group: 'helper' })).toEqual([]);
    });
  },
);
