/**
 * The group setting `mounts` end to end, in real bubblewrap: a group's agent sees the host
 * folders granted to it at /workspace/extra/<name>, writes only where read-write was granted,
 * and a mount the policy refuses at a run fails that run with the reason in the chat. The
 * attacks: an agent that can write above another group's mounted folder puts a symlink on its
 * path; a mount name with `..` that got into the database.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { GroupError } from '../../src/groups/errors.js';
import { nextMessage, runEnded, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { hasBwrap, works } from '../support/host-tools.js';

const root = resolve(import.meta.dirname, '../..');
const daemons: Daemon[] = [];
let base: string;
let projects: string;
let allowlistPath: string;

beforeEach(() => {
  // Outside the data dir (mounts of it are refused), traversable by the sandbox uids.
  base = mkdtempSync(join(tmpdir(), 'clawpod-gm-'));
  chmodSync(base, 0o755);
  projects = join(base, 'projects');
  mkdirSync(join(projects, 'app'), { recursive: true });
  mkdirSync(join(projects, 'docs'));
  writeFileSync(join(projects, 'docs', 'guide.md'), 'the guide');
  mkdirSync(join(base, 'config'));
  allowlistPath = join(base, 'config', 'mount-allowlist.json');
  allow({ allowedRoots: [{ path: projects, allowReadWrite: true }], nonMainReadOnly: false });
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  rmSync(base, { recursive: true, force: true });
});

function allow(obj: unknown): void {
  writeFileSync(allowlistPath, JSON.stringify(obj));
}

async function boot(runtime = 'bubblewrap'): Promise<{ d: Daemon; home: string }> {
  const home = tempHome(
    `runtime: ${runtime}\ndefaults: { harness: command, idleTimeoutMs: 60000 }\nsandbox: { allowlistPath: ${JSON.stringify(allowlistPath)} }\n`,
  );
  const d = await startDaemon(home, []);
  daemons.push(d);
  return { d, home };
}

/** The host uid a group's sandbox runs as (its own under a root daemon), for the rw folder. */
function giveToGroup(d: Daemon, group: string, path: string): void {
  if (process.getuid!() !== 0) return;
  const uid = 70_000 + d.groups.get(group).sandboxSlot;
  chownSync(path, uid, 70_000);
}

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

async function ask(d: Daemon, chat: string): Promise<string> {
  const out = nextMessage(d, outIn(chat));
  await say(d, chat, 'go');
  return (await out).text;
}

function addGroup(d: Daemon, name: string, command: string): void {
  d.groups.add({ name, chats: [`web:${name}`], requiresTrigger: false, command });
}

describe.skipIf(!hasBwrap)('group mounts in bubblewrap', () => {
  it('an rw mount is written through to the host, an ro mount cannot be written', async () => {
    const { d } = await boot();
    addGroup(
      d,
      'coder',
      [
        'echo built > /workspace/extra/app/out.txt && echo app-written',
        'cat /workspace/extra/docs/guide.md',
        'touch /workspace/extra/docs/x 2>/dev/null && echo docs-writable || echo docs-refused',
        'ls /workspace/extra | tr "\\n" " "',
      ].join('; '),
    );
    giveToGroup(d, 'coder', join(projects, 'app'));
    d.groups.mount('coder', { hostPath: join(projects, 'app'), readOnly: false });
    d.groups.mount('coder', { hostPath: join(projects, 'docs'), name: 'docs' });
    const text = await ask(d, 'web:coder');
    expect(text).toContain('app-written');
    expect(readFileSync(join(projects, 'app', 'out.txt'), 'utf8')).toBe('built\n');
    expect(text).toContain('the guide');
    expect(text).toContain('docs-refused');
    expect(existsSync(join(projects, 'docs', 'x'))).toBe(false);
    expect(text).toContain('app docs');
  });

  it('a mount outside the allowlist is refused when set, with the path, the rule and the fix', async () => {
    const { d } = await boot();
    addGroup(d, 'coder', 'true');
    const outside = join(base, 'elsewhere');
    mkdirSync(outside);
    let err: unknown;
    try {
      d.groups.mount('coder', { hostPath: outside });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GroupError);
    expect((err as Error).message).toContain(
      `${outside} is not under any allowedRoots of ${allowlistPath}`,
    );
    expect((err as Error).message).toContain(`add "${base}" to allowedRoots in ${allowlistPath}`);
    expect(d.groups.get('coder').mounts).toEqual([]);
  });

  it('a mount the allowlist no longer allows ends the live session and fails the next run, telling the chat why', async () => {
    const { d } = await boot();
    addGroup(d, 'coder', 'ls /workspace/extra/docs');
    d.groups.mount('coder', { hostPath: join(projects, 'docs'), name: 'docs' });
    expect(await ask(d, 'web:coder')).toContain('guide.md');
    // Taking the root away ends the warm session that has it mounted.
    const live = d.pool.list()[0]!;
    allow({ allowedRoots: [{ path: join(base, 'other') }] });
    await live.closed;
    const ended = runEnded(d);
    const text = await ask(d, 'web:coder');
    expect(text).toMatch(
      /could not start: Extra mount "docs": .*docs is not under any allowedRoots/,
    );
    // Not retried (the owner must act), and the reason stays on the run.
    const run = await ended;
    expect(run.status).toBe('dead');
    expect(run.error).toMatch(/not under any allowedRoots/);
  });

  it('a changed mount restarts the live session: the next message sees it', async () => {
    const { d } = await boot();
    addGroup(d, 'coder', 'ls /workspace/extra 2>/dev/null | tr "\\n" " "; echo end');
    expect(await ask(d, 'web:coder')).toBe('end');
    const first = d.store.runs.list()[0]!.sessionId;
    d.groups.mount('coder', { hostPath: join(projects, 'docs'), name: 'docs' });
    expect(await ask(d, 'web:coder')).toBe('docs end');
    expect(d.store.runs.list()[0]!.sessionId).not.toBe(first);
  });
});

describe.skipIf(!hasBwrap)('group mounts against an agent (attacks)', () => {
  it('an agent that puts a symlink on another group’s mounted path gets nothing mounted', async () => {
    const { d } = await boot();
    const shared = join(projects, 'shared');
    mkdirSync(join(shared, 'app'), { recursive: true });
    writeFileSync(join(shared, 'app', 'readme'), 'granted content');
    mkdirSync(join(projects, 'secret'));
    writeFileSync(join(projects, 'secret', 'token'), 'not granted to the victim');
    // The attacker may write the folder that holds the victim's mounted one.
    addGroup(
      d,
      'attacker',
      'mv /workspace/extra/shared/app /workspace/extra/shared/app.old && ln -s ../secret /workspace/extra/shared/app && echo planted',
    );
    giveToGroup(d, 'attacker', shared);
    d.groups.mount('attacker', { hostPath: shared, readOnly: false });
    addGroup(d, 'victim', 'cat /workspace/extra/app/* 2>&1');
    // The nesting rule refuses this setting; it is put into the database as an older version
    // (or a race between two `groups mount`) could have left it, to test the run's own checks.
    d.store.groups.update('victim', {
      mounts: [{ name: 'app', hostPath: join(shared, 'app'), readOnly: true }],
    });
    expect(await ask(d, 'web:attacker')).toBe('planted');
    const text = await ask(d, 'web:victim');
    expect(text).not.toContain('not granted to the victim');
    expect(text).toMatch(
      /Extra mount "app": .*shared\/app now resolves to .*projects\/secret: a folder on that path was replaced by a symlink/,
    );
    // Put back as a real folder, the nesting rule still refuses it at the run.
    rmSync(join(shared, 'app'));
    mkdirSync(join(shared, 'app'));
    expect(await ask(d, 'web:victim')).toMatch(
      /lies inside .*shared, which group "attacker" mounts read-write/,
    );
  });

  it('a mount name with .. or an absolute path is refused at the run, nothing mounted', async () => {
    const { d, home } = await boot();
    addGroup(d, 'evil', 'ls /workspace 2>&1 | tr "\\n" " "');
    for (const name of ['../ipc', '/workspace/group', 'a/../../global']) {
      d.store.groups.update('evil', {
        mounts: [{ name, hostPath: join(projects, 'docs'), readOnly: false }],
      });
      const text = await ask(d, 'web:evil');
      expect(text).toMatch(/could not start: Extra mount name ".*" (contains '\.\.'|is absolute)/);
    }
    expect(existsSync(join(home, 'ipc', 'evil', 'guide.md'))).toBe(false);
  });
});

const podmanWorks = works('podman', ['info']);

describe.skipIf(!podmanWorks)('group mounts in podman', () => {
  beforeAll(() => {
    if (!works('podman', ['image', 'exists', 'clawpod-agent:local']))
      execFileSync('sh', [join(root, 'src/sandbox/build-local-image.sh'), 'podman'], {
        stdio: 'ignore',
      });
  }, 120_000);

  it('mounts by path: rw written through to the host, ro refused', async () => {
    const { d } = await boot('podman');
    addGroup(
      d,
      'coder',
      'echo built > /workspace/extra/app/out.txt && echo app-written; touch /workspace/extra/docs/x 2>/dev/null || echo docs-refused',
    );
    giveToGroup(d, 'coder', join(projects, 'app'));
    d.groups.mount('coder', { hostPath: join(projects, 'app'), readOnly: false });
    d.groups.mount('coder', { hostPath: join(projects, 'docs') });
    const text = await ask(d, 'web:coder');
    expect(text).toContain('app-written');
    expect(text).toContain('docs-refused');
    expect(readFileSync(join(projects, 'app', 'out.txt'), 'utf8')).toBe('built\n');
    expect(d.status().runtime.selected).toBe('podman');
  }, 60_000);
});
