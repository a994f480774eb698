/**
 * A hostile agent against the host's side of its IPC folder, from inside a real bubblewrap
 * sandbox, with the real daemon at its defaults: the agent (test/fixtures/ipc-attacker.mjs)
 * replaces its queue dirs, floods requests, plants answer slots and dot-files, and fills errors/.
 * The daemon must keep running and answering, never write outside, and tell the owner once.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { IPC_DEFAULTS } from '../../src/ipc/ipc-host.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { fileAppears } from '../support/guard-world.js';

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

const CONFIG = 'runtime: bubblewrap\ndefaults: { harness: command, idleTimeoutMs: 60000 }\n';

async function boot(home = tempHome(CONFIG)): Promise<{ d: Daemon; home: string }> {
  const d = await startDaemon(home, []);
  daemons.push(d);
  return { d, home };
}

type Step = Record<string, unknown> & { do: string };

/** A non-main group whose agent is the attacker script. */
function addAttacker(d: Daemon, home: string, name: string): void {
  d.groups.add({ name, chats: [`web:${name}`], requiresTrigger: false, harness: 'command' });
  mkdirSync(join(home, 'groups', name), { recursive: true });
  copyFileSync(
    join(root, 'test/fixtures/ipc-attacker.mjs'),
    join(home, 'groups', name, 'attacker.mjs'),
  );
}

/** Runs `steps` in the group's sandbox (one turn) and returns one parsed line per step. */
async function attack(
  d: Daemon,
  name: string,
  steps: Step[],
): Promise<Array<Record<string, unknown>>> {
  const arg = JSON.stringify(steps).replace(/'/g, `'\\''`);
  d.groups.update(name, { command: `node /workspace/group/attacker.mjs '${arg}'` });
  // The reply is the script's output; messages it sends over IPC go to the same chat.
  const reply = nextMessage(
    d,
    (m) => m.direction === 'out' && m.chatId === `web:${name}` && m.text.startsWith('{"step"'),
  );
  await say(d, `web:${name}`, 'go');
  const text = (await reply).text;
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const ipcOf = (home: string, group: string, ...p: string[]) => join(home, 'ipc', group, ...p);
const isRealDir = (p: string) => {
  const st = lstatSync(p);
  return st.isDirectory() && !st.isSymbolicLink();
};
/** The reasons of the errors/ entries whose names start with `prefix`, joined. */
const reasonsOf = (home: string, group: string, prefix: string) =>
  readdirSync(ipcOf(home, group, 'errors'))
    .filter((n) => n.startsWith(prefix) && n.endsWith('.error.json'))
    .map(
      (n) =>
        (JSON.parse(readFileSync(ipcOf(home, group, 'errors', n), 'utf8')) as { reason: string })
          .reason,
    )
    .join('\n');
const notices = (d: Daemon) =>
  d.store.db
    .prepare("SELECT idem_key AS key, text FROM outbox WHERE idem_key LIKE 'notice:ipc:%'")
    .all() as Array<{ key: string; text: string }>;

describe.skipIf(!hasBwrap)('IPC attacks from inside bubblewrap', () => {
  it('errors/ replaced by a file, then a dangling symlink: repaired, the daemon and other groups go on, the owner told once', async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'wreck');
    addAttacker(d, home, 'calm');
    const first = await attack(d, 'wreck', [{ do: 'replace', dir: 'errors', kind: 'file' }]);
    expect(first[0]).toMatchObject({ replaced: 'errors' });
    // The safety-net rescan meets the broken folder (whether or not the watch repaired it first).
    await expect(d.ipc.rescan()).resolves.toBeUndefined();
    expect(isRealDir(ipcOf(home, 'wreck', 'errors'))).toBe(true);
    expect(reasonsOf(home, 'wreck', 'quarantined-errors-')).toContain('errors/ was a file');

    const second = await attack(d, 'wreck', [
      { do: 'replace', dir: 'errors', kind: 'dangling' },
      { do: 'request', id: 'b1', raw: '{"id":"b1",' },
      { do: 'request', id: 'm1', op: 'send_message', args: { text: 'still answered' } },
    ]);
    expect(second[0]).toMatchObject({ replaced: 'errors' });
    expect(second[1]).toMatchObject({ id: 'b1', ok: false, error: { code: 'invalid_json' } });
    expect(second[2]).toMatchObject({ id: 'm1', ok: true });
    await d.ipc.rescan();
    const errors = readdirSync(ipcOf(home, 'wreck', 'errors'));
    expect(errors).toEqual(expect.arrayContaining(['b1.json', 'b1.json.error.json']));
    // The agent removed errors/ with what was in it; the symlink is on file now.
    expect(reasonsOf(home, 'wreck', 'quarantined-errors-')).toMatch(
      /errors\/ was a symlink.*\/nonexistent\/clawpod-attack/,
    );

    // Another group is answered meanwhile, and the daemon runs on.
    const calm = await attack(d, 'calm', [
      { do: 'request', id: 'c1', op: 'send_message', args: { text: 'calm here' } },
    ]);
    expect(calm[0]).toMatchObject({ id: 'c1', ok: true });
    expect(d.status().daemon.running).toBe(true);
    const told = notices(d);
    expect(told).toHaveLength(1);
    expect(told[0]!.key).toMatch(/^notice:ipc:wreck:repaired:/);
    expect(told[0]!.text).toContain('Group "wreck" broke its IPC folder');
    expect(d.status().ipc).toMatchObject({ quarantined: expect.any(Number) });
    expect(d.status().ipc!.quarantined).toBeGreaterThanOrEqual(2);
  });

  it('a daemon restarted on a folder left broken starts and repairs it', async () => {
    const home = tempHome(CONFIG);
    const first = await boot(home);
    addAttacker(first.d, home, 'wreck');
    await attack(first.d, 'wreck', [{ do: 'check', path: 'errors' }]);
    await first.d.stop();
    daemons.splice(daemons.indexOf(first.d), 1);
    rmSync(ipcOf(home, 'wreck', 'errors'), { recursive: true });
    writeFileSync(ipcOf(home, 'wreck', 'errors'), 'left broken');
    const { d } = await boot(home);
    await d.ipc.rescan();
    expect(isRealDir(ipcOf(home, 'wreck', 'errors'))).toBe(true);
    const again = await attack(d, 'wreck', [
      { do: 'request', id: 'm2', op: 'send_message', args: { text: 'back' } },
    ]);
    expect(again[0]).toMatchObject({ id: 'm2', ok: true });
  });

  it('40 send_message at once: 40 ok answers, each sent once, no error files', async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'flood');
    const [flood] = await attack(d, 'flood', [
      { do: 'flood', n: 40, waves: 4, prefix: 's', op: 'send_message', text: 'hello' },
    ]);
    expect(flood).toMatchObject({ answered: 40, ok: 40, bad: [] });
    await d.ipc.rescan();
    expect(readdirSync(ipcOf(home, 'flood', 'errors'))).toEqual([]);
    expect(readdirSync(ipcOf(home, 'flood', 'responses'))).toEqual([]);
    expect(readdirSync(ipcOf(home, 'flood', 'requests'))).toEqual([]);
    const queued = d.store.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE idem_key LIKE 'ipc:flood:s%'")
      .get() as { n: number };
    expect(queued.n).toBe(40);
  });

  it('a symlinked responses/ and planted answer slots: nothing written outside, every request answered', async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'plant');
    const outside = join(home, 'outside');
    mkdirSync(outside);
    const hostFile = join(home, 'host-file.txt');
    writeFileSync(hostFile, 'untouched');
    const out = await attack(d, 'plant', [
      // The link resolves on the host only: the sandbox cannot see that path, the host can.
      { do: 'replace', dir: 'responses', kind: 'symlink', target: outside },
      { do: 'request', id: 'r1', op: 'list_tasks' },
      { do: 'plant-response', id: 'r2', kind: 'symlink', target: hostFile },
      { do: 'request', id: 'r2', op: 'list_tasks' },
      { do: 'plant-response', id: 'r3', kind: 'dir' },
      { do: 'request', id: 'r3', op: 'list_tasks' },
    ]);
    expect(out[0]).toMatchObject({ replaced: 'responses' });
    expect(out[1]).toMatchObject({ id: 'r1', ok: true });
    expect(out[3]).toMatchObject({ id: 'r2', ok: true });
    expect(out[5]).toMatchObject({ id: 'r3', ok: true });
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(hostFile, 'utf8')).toBe('untouched');
    expect(isRealDir(ipcOf(home, 'plant', 'responses'))).toBe(true);
    await d.ipc.rescan();
    const errors = readdirSync(ipcOf(home, 'plant', 'errors'));
    expect(errors).toEqual(
      expect.arrayContaining(['planted-r2.json.error.json', 'planted-r3.json.error.json']),
    );
    expect(errors.some((n) => n.startsWith('quarantined-responses-'))).toBe(true);
  });

  it('the final answer of a request held for the owner never follows a slot planted for it', async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'held');
    d.groups.bind('held', 'web:held-other');
    const hostFile = join(home, 'host-file.txt');
    writeFileSync(hostFile, 'untouched');
    const asked = new Promise<number>((r) =>
      d.bus.on('approval', (a) => a.status === 'pending' && r(a.id)),
    );
    const out = await attack(d, 'held', [
      // Where the decision will be written, before it is: a link to a host file.
      { do: 'plant-response', id: 'fin1.final', kind: 'symlink', target: hostFile },
      {
        do: 'request',
        id: 'fin1',
        op: 'send_message',
        args: { text: 'hi', chat: 'web:held-other' },
      },
    ]);
    expect(out[1]).toMatchObject({
      id: 'fin1',
      ok: true,
      result: { pending: { approval: await asked } },
    });
    const moved = fileAppears(ipcOf(home, 'held', 'errors', 'planted-fin1.final.json.error.json'));
    d.guard.answer(await asked, 'once', 'owner');
    await moved;
    await fileAppears(ipcOf(home, 'held', 'responses', 'fin1.final.json'));
    expect(readFileSync(hostFile, 'utf8')).toBe('untouched');
    expect(lstatSync(ipcOf(home, 'held', 'responses', 'fin1.final.json')).isFile()).toBe(true);
    expect(
      JSON.parse(readFileSync(ipcOf(home, 'held', 'responses', 'fin1.final.json'), 'utf8')),
    ).toMatchObject({ id: 'fin1', ok: true, result: { chat: 'web:held-other' } });
  });

  it('dot-files are reported, and errors/ is kept at its cap', async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'litter');
    const cap = IPC_DEFAULTS.errorsCap;
    const out = await attack(d, 'litter', [
      { do: 'dotfiles' },
      { do: 'fill-errors', n: cap + 100 },
      { do: 'request', id: 'bad1', raw: 'not json' },
    ]);
    expect(out[2]).toMatchObject({ id: 'bad1', ok: false, error: { code: 'invalid_json' } });
    await d.ipc.rescan();
    // The stale and the far-ahead temp files are reported; the fresh one is a writer's, left.
    expect(readdirSync(ipcOf(home, 'litter', 'requests'))).toEqual(['.fresh.tmp']);
    const errors = readdirSync(ipcOf(home, 'litter', 'errors'));
    expect(errors).toHaveLength(cap);
    expect(errors).toEqual(
      expect.arrayContaining([
        '.sneaky.json.error.json',
        '.ahead.tmp.error.json',
        'bad1.json.error.json',
      ]),
    );
    expect(errors).not.toContain('junk-0'); // the oldest went first
    const why = JSON.parse(
      readFileSync(ipcOf(home, 'litter', 'errors', '.sneaky.json.error.json'), 'utf8'),
    ) as { reason: string };
    expect(why.reason).toContain('starts with "."');
    const ipc = d.status().ipc!;
    expect(ipc.groups.find((g) => g.group === 'litter')).toMatchObject({
      errorsFiles: cap,
      rotated: expect.any(Number),
    });
    expect(notices(d).map((n) => n.key)).toEqual([
      expect.stringMatching(/^notice:ipc:litter:errors-capped:/),
    ]);
  });

  it("a group asking about main's task gets the answer for a task that does not exist", async () => {
    const { d, home } = await boot();
    addAttacker(d, home, 'nosy');
    const { id } = d.scheduling.tasks.create(
      { group: 'main', isMain: true },
      { id: 'tq7x', schedule: '1h', prompt: 'owner only' },
    );
    const out = await attack(d, 'nosy', [
      { do: 'request', id: 'a', op: 'pause_task', args: { id } },
      { do: 'request', id: 'b', op: 'pause_task', args: { id: 'zz9y' } },
    ]);
    const shown = (o: Record<string, unknown>, taskId: string) =>
      JSON.stringify(o.error).replaceAll(taskId, '<id>');
    expect(out[0]).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(shown(out[0]!, id)).toBe(shown(out[1]!, 'zz9y'));
    expect(existsSync(ipcOf(home, 'nosy', 'errors'))).toBe(true);
  });
});
