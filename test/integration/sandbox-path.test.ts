import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';

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
const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

async function boot(): Promise<{ d: Daemon; home: string }> {
  const home = tempHome(
    'runtime: bubblewrap\ndefaults: { harness: command, idleTimeoutMs: 60000 }\n',
  );
  const d = await startDaemon(home, []);
  daemons.push(d);
  return { d, home };
}

/** A non-main group whose command runs the IPC test agent with `requests`. */
function ipcGroup(d: Daemon, home: string, name: string, requests: unknown[]): void {
  d.groups.add({ name, chats: [`web:${name}`], requiresTrigger: false, harness: 'command' });
  mkdirSync(join(home, 'groups', name), { recursive: true });
  copyFileSync(join(root, 'test/fixtures/ipc-agent.mjs'), join(home, 'groups', name, 'agent.mjs'));
  const arg = JSON.stringify(requests).replace(/'/g, `'\\''`);
  d.groups.update(name, { command: `node /workspace/group/agent.mjs '${arg}'` });
}

describe.skipIf(!hasBwrap)('message → command harness in bubblewrap → reply', () => {
  it('answers web:main from inside the sandbox', async () => {
    const { d } = await boot();
    d.groups.update('main', { command: 'tr a-z A-Z' });
    const out = nextMessage(d, outIn('web:main'));
    await say(d, 'web:main', 'hello sandbox');
    expect((await out).text).toContain('HELLO SANDBOX');
    expect(d.status().runtime.selected).toBe('bubblewrap');
  });

  it('a warm group has a session started ahead, used by the next message and refilled', async () => {
    const { d } = await boot();
    d.groups.add({
      name: 'hot',
      chats: ['web:hot'],
      requiresTrigger: false,
      warm: true,
      command: 'echo pid=$$',
    });
    // Adding a warm group starts its session ahead at once (no restart needed).
    await expect.poll(() => d.pool.list().length, { interval: 20 }).toBe(1);
    const ahead = d.pool.list()[0]!;
    const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:hot');
    await say(d, 'web:hot', 'go');
    expect((await out).text).toMatch(/^pid=\d+$/);
    expect(d.store.runs.list()[0]!.sessionId).toBe(ahead.id); // the run used the session ahead
    ahead.close('test'); // the session ends; the pool refills
    await ahead.closed;
    await expect.poll(() => d.pool.list().map((s) => s.id), { interval: 20 }).toHaveLength(1);
    expect(d.pool.list()[0]!.id).not.toBe(ahead.id);
  });

  it('runs as non-root, sees its folder rw, global ro, and nothing of the host', async () => {
    const { d, home } = await boot();
    d.groups.add({
      name: 'probe',
      chats: ['web:probe'],
      requiresTrigger: false,
      env: { PROJECT: 'apollo' },
    });
    d.groups.add({ name: 'other', chats: ['web:other'] });
    writeFileSync(join(home, 'groups', 'other', 'secret.txt'), 'other-group-secret');
    d.groups.update('probe', {
      command: [
        'echo uid=$(id -u) project=$PROJECT',
        'touch /workspace/group/w && echo group-writable',
        'touch /workspace/global/w 2>/dev/null && echo global-writable',
        'cat /etc/shadow 2>/dev/null && echo shadow-readable',
        'ls /root 2>/dev/null && echo root-listable',
        `test -e ${home}/clawpod.db && echo db-visible`,
        `cat ${home}/groups/other/secret.txt 2>/dev/null`,
        // Of clawpod itself: the bundles only (the command harness needs no package).
        'echo "opt=$(ls -A /opt/clawpod | tr "\\n" " ")agent=$(ls -A /opt/clawpod/agent | tr "\\n" " ")"',
        'ls /workspace',
      ].join('; '),
    });
    const out = nextMessage(d, outIn('web:probe'));
    await say(d, 'web:probe', 'probe');
    const text = (await out).text;
    // A root daemon runs the group as its own uid (sandbox.uidBase + slot), else as itself.
    const uid =
      process.getuid!() === 0 ? 70_000 + d.groups.get('probe').sandboxSlot : process.getuid!();
    expect(text).toContain(`uid=${uid} project=apollo`);
    expect(text).toContain('group-writable');
    for (const leak of [
      'global-writable',
      'shadow-readable',
      'root-listable',
      'db-visible',
      'other-group-secret',
    ]) {
      expect(text).not.toContain(leak);
    }
    expect(text).toContain('opt=agent agent=mcp.cjs runner.cjs');
    expect(text.split('\n').slice(-5).join(' ')).toMatch(/global.*group.*ipc.*session/s);
  });

  it("lets a group message its own chat over IPC, refuses main's chat, and answers both", async () => {
    const { d, home } = await boot();
    ipcGroup(d, home, 'team', [
      { id: 'own', op: 'send_message', args: { text: 'progress update' } },
      { id: 'hijack', op: 'send_message', args: { chat: 'web:main', text: 'I am main now' } },
      { id: 'groups', op: 'list_groups', args: {} },
      { id: 'bad', raw: '{"id":"bad","op":"format_disk"}' },
    ]);
    const progress = nextMessage(d, (m) => m.direction === 'out' && m.text === 'progress update');
    const final = nextMessage(d, (m) => outIn('web:team')(m) && m.text.includes('"bad"'));
    await say(d, 'web:team', 'go');
    await progress;
    const text = (await final).text;
    expect(text).toMatch(/"id":"own","ok":true/);
    expect(text).toMatch(/"id":"hijack","ok":false,"error":\{"code":"forbidden"/);
    expect(text).toMatch(/"id":"groups","ok":false,"error":\{"code":"forbidden"/);
    expect(text).toMatch(/"id":"bad","ok":false,"error":\{"code":"invalid_request"/);
    expect(d.store.messages.listChat('web:main', 0).some((m) => m.text === 'I am main now')).toBe(
      false,
    );
    const errors = readdirSync(join(home, 'ipc', 'team', 'errors'));
    expect(errors).toEqual(expect.arrayContaining(['bad.json', 'bad.json.error.json']));
    expect(
      readFileSync(join(home, 'ipc', 'team', 'errors', 'bad.json.error.json'), 'utf8'),
    ).toContain('op');
  });
});

describe('IPC host against planted symlinks (host side)', () => {
  it('never reads through a request symlink nor writes through a response symlink', async () => {
    const home = tempHome();
    const d = await startDaemon(home, []);
    daemons.push(d);
    d.groups.add({ name: 'evil', chats: ['web:evil'] });
    d.ipc.ensureGroup('evil');
    const ipc = join(home, 'ipc', 'evil');
    const sentinel = join(home, 'sentinel.txt');
    writeFileSync(sentinel, 'untouched');
    // A response file planted as a symlink to a host file, then a request that answers into it.
    symlinkSync(sentinel, join(ipc, 'responses', 'r1.json'));
    writeFileSync(
      join(ipc, 'requests', 'r1.json'),
      JSON.stringify({ id: 'r1', op: 'list_groups', args: {} }),
    );
    // A request planted as a symlink to /etc/shadow.
    symlinkSync('/etc/shadow', join(ipc, 'requests', 'r2.json'));
    await d.ipc.scan('evil', 'requests');
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched');
    expect(JSON.parse(readFileSync(join(ipc, 'responses', 'r1.json'), 'utf8'))).toMatchObject({
      id: 'r1',
      ok: false,
    });
    const reason = JSON.parse(readFileSync(join(ipc, 'errors', 'r2.json.error.json'), 'utf8')) as {
      reason: string;
    };
    expect(reason.reason).toContain('symlink');
    expect(existsSync(join(ipc, 'requests', 'r2.json'))).toBe(false);
    expect(JSON.stringify(readdirSync(join(ipc, 'errors')))).not.toContain('root:');
  });
});
