import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';

// A root daemon saves attachments into a group folder the sandbox user owns: the files must be
// the agent's to delete, and a symlink the agent plants must not redirect the save or the chown.

const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const isRoot = process.getuid?.() === 0;
const CHAT = 'web:files';
let n = 0;

describe.skipIf(!hasBwrap || !isRoot)('attachments of a root daemon, in bubblewrap', () => {
  let d: Daemon;
  let home: string;

  beforeAll(async () => {
    home = tempHome('runtime: bubblewrap\ndefaults: { harness: command, idleTimeoutMs: 60000 }\n');
    d = await startDaemon(home, []);
    // The agent: a script acting on the words of its prompt (stdin).
    mkdirSync(join(home, 'groups', 'files'), { recursive: true });
    writeFileSync(
      join(home, 'groups', 'files', 'act.sh'),
      [
        'p=$(cat)',
        'case "$p" in',
        `  *PLANT*) rm -rf /workspace/group/attachments && ln -s ${join(home, 'victim')} /workspace/group/attachments && echo planted ;;`,
        '  *DELETE*) rm -f /workspace/group/attachments/* 2>&1; echo left=$(ls -A /workspace/group/attachments | wc -l) ;;',
        '  *) echo ready ;;',
        'esac',
      ].join('\n'),
    );
    d.groups.add({
      name: 'files',
      chats: [CHAT],
      requiresTrigger: false,
      command: 'sh /workspace/group/act.sh',
    });
  });
  afterAll(() => d.stop());

  /** One message (with an attachment) through the router, as a channel would; its reply. */
  async function say(text: string, attach: boolean) {
    const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === CHAT);
    await d.router.receive({
      chatId: CHAT,
      platformId: `f${++n}`,
      sender: 'u1',
      text,
      ts: Date.now(),
      ...(attach ? { attachments: [{ name: 'a.txt', data: Buffer.from('secret-ish') }] } : {}),
    });
    return (await out).text;
  }

  it('the agent can delete the attachments it was sent', async () => {
    // A first run gives the group folder to the sandbox user; attachments/ is made after it.
    expect(await say('hello', false)).toContain('ready');
    const answer = await say('DELETE this file', true);
    expect(answer).not.toContain('Permission denied');
    expect(answer).toContain('left=0');
    // Owned like the group's folder: the group's own sandbox uid.
    const st = statSync(join(home, 'groups', 'files', 'attachments'));
    const folder = statSync(join(home, 'groups', 'files'));
    expect([st.uid, st.gid]).toEqual([folder.uid, folder.gid]);
    expect(st.uid).not.toBe(0);
  });

  it('a planted attachments symlink is refused: nothing written or chowned through it', async () => {
    const victim = join(home, 'victim');
    mkdirSync(victim, { mode: 0o755 });
    expect(await say('PLANT a link', false)).toContain('planted');
    await say('another file', true);
    const stored = d.store.messages.listChat(CHAT, 0).filter((m) => m.direction === 'in');
    expect(stored.at(-1)!.text).toMatch(/attachments could not be saved: .*symlink/);
    expect(readdirSync(victim)).toEqual([]);
    const st = statSync(victim);
    expect([st.uid, st.gid]).toEqual([0, 0]);
  });
});
