/**
 * The real daemon as root with bubblewrap, at default settings: each group runs as its own host
 * uid, so one group can neither use up another's process limit nor touch its files, and the
 * data dir is private at rest. Skipped (reason in the suite name) without bwrap or root.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { StoredMessage } from '../../src/store/messages.js';
import type { RunRecord } from '../../src/store/runs.js';
import { say, startDaemon, tempHome } from '../support/daemon-harness.js';

const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const skipReason = !hasBwrap
  ? 'SKIPPED: bwrap not installed'
  : process.getuid?.() !== 0
    ? 'SKIPPED: per-group uids need a root daemon (run the tests as root)'
    : '';
/** sandbox.uidBase at its default: the gid of every sandbox, and the base of their uids. */
const UID_BASE = 70_000;

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

async function boot(extraYaml = ''): Promise<{ d: Daemon; home: string }> {
  const home = tempHome(`runtime: bubblewrap\ndefaults: { harness: command }\n${extraYaml}`);
  const d = await startDaemon(home, []);
  daemons.push(d);
  return { d, home };
}

function addGroup(d: Daemon, name: string, command: string, runtime?: 'none'): void {
  d.groups.add({ name, chats: [`web:${name}`], requiresTrigger: false, command, runtime });
}

const uidOf = (d: Daemon, name: string, base = UID_BASE) => base + d.groups.get(name).sandboxSlot;
/**
 * The process-limit test fills a uid's whole process table. Other test files run daemons beside
 * it on this host, at the default range: like two installations on one host, it takes a range
 * of its own (docs/sandbox.md), or it would starve their groups of the same slot.
 */
const HOG_BASE = 90_000;

/**
 * The group's next answer in its chat, or the error of its run when the run fails instead (a
 * message run stays open as a warm agent after answering, so its end is not awaited).
 */
function answer(d: Daemon, group: string): Promise<{ text: string } | { error: string }> {
  return new Promise((resolve) => {
    const done = (v: { text: string } | { error: string }) => {
      d.bus.off('message', onMessage);
      d.bus.off('run', onRun);
      resolve(v);
    };
    const onMessage = (m: StoredMessage) => {
      if (m.direction === 'out' && m.chatId === `web:${group}`) done({ text: m.text.trim() });
    };
    const onRun = (r: RunRecord) => {
      if (r.group === group && r.status === 'error') done({ error: r.error ?? 'failed' });
    };
    d.bus.on('message', onMessage);
    d.bus.on('run', onRun);
  });
}

/** Resolves with the content of `file` once it exists (inotify on its directory). */
function fileAppears(file: string): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      if (!existsSync(file)) return false;
      watcher.close();
      resolve(readFileSync(file, 'utf8'));
      return true;
    };
    const watcher = watch(dirname(file), (_event, name) => {
      if (name === basename(file)) check();
    });
    check();
  });
}

/**
 * Spawns sleepers until the kernel refuses (the group's process limit), reports how many it
 * holds in `full`, keeps them until `release` appears, then lets them go.
 */
const HOG = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const kids = [];
let k;
for (let i = 0; i < 2000; i++) {
  k = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
  k.on('error', () => {});
  if (!k.pid) break;
  kids.push(k);
}
k.on('error', (e) => {
  fs.writeFileSync('/workspace/group/.full', kids.length + ' ' + e.code);
  fs.renameSync('/workspace/group/.full', '/workspace/group/full');
});
const done = () => { for (const k of kids) k.kill('SIGKILL'); console.log('held ' + kids.length + ' as uid ' + process.getuid()); process.exit(0); };
if (fs.existsSync('/workspace/group/release')) done();
fs.watch('/workspace/group', (_e, name) => { if (name === 'release') done(); });
`;

describe.skipIf(skipReason !== '')(`per-group sandbox uids (root daemon) ${skipReason}`, () => {
  it("a group holding its whole process limit does not stop another group's run", async () => {
    const { d, home } = await boot(`sandbox: { uidBase: ${HOG_BASE}, uidCount: 100 }\n`);
    addGroup(d, 'hog', 'node /workspace/group/hog.cjs');
    writeFileSync(join(home, 'groups', 'hog', 'hog.cjs'), HOG);
    addGroup(d, 'calm', 'echo uid=$(id -u)');
    expect(uidOf(d, 'hog', HOG_BASE)).not.toBe(uidOf(d, 'calm', HOG_BASE));

    const full = fileAppears(join(home, 'groups', 'hog', 'full'));
    const hogAnswer = answer(d, 'hog');
    await say(d, 'web:hog', 'fill your process table');
    // At the default limits.pids (256), counted over every task of the uid, the sleepers take
    // nearly all of it; the next fork failed.
    const [held, why] = (await full).split(' ');
    expect(Number(held)).toBeGreaterThan(150);
    expect(why).toBe('EAGAIN');

    const calm = answer(d, 'calm');
    await say(d, 'web:calm', 'are you there?');
    expect(await calm).toEqual({ text: `uid=${uidOf(d, 'calm', HOG_BASE)}` });

    writeFileSync(join(home, 'groups', 'hog', 'release'), '');
    expect(await hogAnswer).toEqual({ text: `held ${held} as uid ${uidOf(d, 'hog', HOG_BASE)}` });
  });

  it("an agent's files are its group's, and another group's agent cannot read or change them", async () => {
    const { d, home } = await boot();
    addGroup(
      d,
      'alice',
      'echo "dear diary" > diary.txt && mkdir -p notes && echo n > notes/n && echo wrote',
    );
    const wrote = answer(d, 'alice');
    await say(d, 'web:alice', 'write');
    expect(await wrote).toEqual({ text: 'wrote' });
    const aliceDir = join(home, 'groups', 'alice');
    for (const p of [aliceDir, join(aliceDir, 'diary.txt'), join(aliceDir, 'notes', 'n')]) {
      const st = statSync(p);
      expect([st.uid, st.gid], p).toEqual([uidOf(d, 'alice'), UID_BASE]);
    }
    expect(statSync(aliceDir).mode & 0o777).toBe(0o700);

    // Mallory runs with no sandbox at all (runtime none), as its own uid: only the host's file
    // permissions stand between it and alice's folder.
    addGroup(
      d,
      'mallory',
      [
        'echo uid=$(id -u)',
        `cat ${aliceDir}/diary.txt 2>/dev/null || echo no-read`,
        `(echo x >> ${aliceDir}/diary.txt) 2>/dev/null || echo no-append`,
        `touch ${aliceDir}/planted 2>/dev/null || echo no-create`,
        `ls ${join(home, 'groups')} >/dev/null 2>&1 || echo no-list`,
        `cat ${join(home, 'clawpod.db')} >/dev/null 2>&1 || echo no-db`,
      ].join('; '),
      'none',
    );
    const tried = answer(d, 'mallory');
    await say(d, 'web:mallory', 'go');
    expect(await tried).toEqual({
      text: [
        `uid=${uidOf(d, 'mallory')}`,
        'no-read',
        'no-append',
        'no-create',
        'no-list',
        'no-db',
      ].join('\n'),
    });
    expect(readFileSync(join(aliceDir, 'diary.txt'), 'utf8')).toBe('dear diary\n');
    expect(existsSync(join(aliceDir, 'planted'))).toBe(false);
  });

  it('after a first run the data dir is private at rest', async () => {
    const home = tempHome('runtime: bubblewrap\ndefaults: { harness: command }\n');
    // What an earlier version (or a library under umask 022) left readable.
    mkdirSync(join(home, 'logs'), { mode: 0o755 });
    writeFileSync(join(home, 'logs', 'clawpod.log'), '{"msg":"a chat message"}\n', { mode: 0o644 });
    writeFileSync(join(home, '.env'), 'ANTHROPIC_API_KEY=sk-x\n', { mode: 0o644 });
    const d = await startDaemon(home, []);
    daemons.push(d);
    d.groups.update('main', { command: 'echo stored' });
    const out = answer(d, 'main');
    await say(d, 'web:main', 'remember this');
    expect(await out).toEqual({ text: 'stored' });

    const st = (p: string) => statSync(join(home, p));
    const mode = (p: string) => st(p).mode & 0o7777;
    for (const f of [
      'clawpod.db',
      'clawpod.db-wal',
      'clawpod.db-shm',
      'config.yaml',
      '.env',
      'api-token',
      'logs/clawpod.log',
    ]) {
      expect(mode(f), f).toBe(0o600);
    }
    expect(mode('logs')).toBe(0o700);
    // Sandboxes (their shared gid, nobody else) may traverse what leads to their folders.
    for (const dir of ['.', 'groups', 'ipc', 'sessions']) {
      expect([mode(dir), st(dir).gid], dir).toEqual([0o710, UID_BASE]);
    }
    const main = uidOf(d, 'main');
    for (const dir of ['groups/main', 'ipc/main', 'sessions/main']) {
      expect([st(dir).uid, st(dir).gid, mode(dir)], dir).toEqual([main, UID_BASE, 0o700]);
    }
    expect([st('groups/global').uid, mode('groups/global')]).toEqual([main, 0o750]);
  });

  it("an attachment saved for a group is the group's: its agent can delete it", async () => {
    const { d, home } = await boot();
    addGroup(
      d,
      'files',
      'if [ -d attachments ]; then stat -c %u attachments attachments/*; rm attachments/* && echo deleted; else echo none; fi',
    );
    // A first run hands the folder over; the attachment comes later, written by the host.
    const first = answer(d, 'files');
    await say(d, 'web:files', 'hello');
    expect(await first).toEqual({ text: 'none' });

    const second = answer(d, 'files');
    await d.router.receive({
      chatId: 'web:files',
      platformId: 'photo-1',
      sender: 'alice',
      senderName: 'alice',
      text: 'look at this',
      ts: Date.now(),
      attachments: [{ name: 'cat.jpg', mime: 'image/jpeg', data: Buffer.from('jpeg bytes') }],
    });
    const uid = String(uidOf(d, 'files'));
    expect(await second).toEqual({ text: [uid, uid, 'deleted'].join('\n') });
    expect(readdirSync(join(home, 'groups', 'files', 'attachments'))).toEqual([]);
  });

  it('start refuses a sandbox id range that holds a host user, naming it and the keys', async () => {
    // 65534 is nobody on every Linux.
    const home = tempHome('sandbox: { uidBase: 65000, uidCount: 1000 }\n');
    const config = loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH });
    const d = new Daemon({ config, log: silentLogger() });
    daemons.push(d);
    await expect(d.start()).rejects.toThrow(
      /sandbox id range 65000-65999 \(sandbox.uidBase, sandbox.uidCount\) is already in use: user nobody \(65534\)/,
    );
  });
});
