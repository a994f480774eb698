/**
 * Group directories as a root daemon prepares them, checked from inside real bubblewrap
 * sandboxes running as each group's own uid: a group reaches only its own folder, and the
 * host's ownership walks never follow what an agent planted. Root only (per-group uids need a
 * root daemon); skipped with the reason in the suite name otherwise.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataPaths, type DataPaths } from '../config/load.js';
import { buildBwrapCommand, DEFAULT_SYSTEM_PATHS, type BwrapHost } from './bubblewrap-args.js';
import {
  BubblewrapRuntime,
  nodeDirIfOutsideSystem,
  parseBwrapFeatures,
  probeSystemPaths,
} from './bubblewrap.js';
import { findExecutable, runProbeSync } from './exec-util.js';
import { handOver, prepareGroupDirs, shareGlobal } from './group-dirs.js';
import { wrapChild } from './process-handle.js';
import type { Mount, SandboxSpec } from './runtime.js';
import { safeMkdirp, safeWriteFile } from './safe-fs.js';
import type { SandboxIdentity } from './sandbox-ids.js';
import { collect } from './test-support.js';

const searchPath = process.env.PATH ?? '/usr/bin:/bin';
const nodeDir = nodeDirIfOutsideSystem(process.execPath);
const rt = new BubblewrapRuntime({ searchPath, extraSystemPaths: nodeDir ? [nodeDir] : [] });
const bwrap = findExecutable('bwrap', searchPath);
const bwrapHost = (): BwrapHost => ({
  bwrapPath: bwrap!,
  prlimitPath: findExecutable('prlimit', searchPath),
  features: parseBwrapFeatures(runProbeSync(bwrap!, ['--help'], 5000).stdout),
  systemPaths: probeSystemPaths([...DEFAULT_SYSTEM_PATHS, ...(nodeDir ? [nodeDir] : [])]),
});
const avail = bwrap ? await rt.available() : null;
const root = process.getuid?.() === 0;
const skipReason = !bwrap
  ? 'SKIPPED: bwrap not installed'
  : !avail?.ok
    ? `SKIPPED: bwrap cannot create sandboxes here: ${avail?.reason}`
    : !root
      ? 'SKIPPED: per-group uids need a root daemon (run the tests as root)'
      : '';

const SHARED_GID = 70_000;
const alice: SandboxIdentity = { uid: 70_001, gid: SHARED_GID };
const bob: SandboxIdentity = { uid: 70_002, gid: SHARED_GID };

describe.skipIf(skipReason !== '')(`group directories of a root daemon ${skipReason}`, () => {
  let base: string;
  let paths: DataPaths;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'clawpod-gdirs-'));
    chmodSync(base, 0o755); // where CLAWPOD_HOME lives must be traversable (docs/sandbox.md)
    paths = dataPaths(join(base, 'home'));
    for (const d of [paths.home, paths.groups, paths.ipc, paths.sessions]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    mkdirSync(join(paths.groups, 'global'), { mode: 0o700 });
    writeFileSync(join(paths.groups, 'global', 'CLAUDE.md'), 'shared facts', { mode: 0o600 });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const prepare = (folder: string, owner: SandboxIdentity, isMain = false) =>
    prepareGroupDirs({ paths, folder, isMain, owner, traverse: true });

  /**
   * Runs `script` (node -e) in bubblewrap as `who`, with its group folder and `extra` mounts.
   * The argv is built as the runtime builds it, but spawned here without the host's mount
   * pre-check, so the kernel alone decides what `who` may reach.
   */
  const inSandbox = async (
    who: SandboxIdentity,
    groupDir: string,
    script: string,
    extra: Mount[] = [],
  ) => {
    const spec: SandboxSpec = {
      id: 'gdirs-test',
      command: [process.execPath, '-e', script],
      mounts: [{ hostPath: groupDir, sandboxPath: '/workspace/group', readOnly: false }, ...extra],
      env: { PATH: '/usr/bin:/bin' },
      workdir: '/workspace/group',
      uid: who.uid,
      gid: who.gid,
      limits: { memoryMb: 512, cpus: 1, pids: 64, wallTimeMs: 15_000 },
      network: { mode: 'none' },
    };
    const { file, args } = buildBwrapCommand(spec, bwrapHost());
    const child = spawn(file, args, {
      stdio: 'pipe',
      env: {},
      cwd: '/',
      uid: who.uid,
      gid: who.gid,
    });
    const r = await collect(wrapChild(child, { wallTimeMs: 15_000 }));
    expect(r.exit, r.stderr).toEqual({ code: 0, signal: null });
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  const TRY = `const fs = require('fs');
    const t = (f) => { try { const v = f(); return v === undefined ? 'ok' : v; } catch (e) { return e.code; } };`;

  it("a group reaches its own folder, never another group's; global only to read", async () => {
    const a = prepare('alice', alice);
    const b = prepare('bob', bob);
    await safeWriteFile(b.groupDir, 'diary.txt', 'bob secret', { inheritOwner: true });

    // Alice sees the whole groups/ dir (as a mistaken extra mount would show it).
    const out = await inSandbox(
      alice,
      a.groupDir,
      `${TRY}
      console.log(JSON.stringify({
        own: t(() => fs.writeFileSync('/workspace/group/note.txt', 'mine')),
        listGroups: t(() => fs.readdirSync('/g')),
        readBob: t(() => fs.readFileSync('/g/bob/diary.txt', 'utf8')),
        listBob: t(() => fs.readdirSync('/g/bob')),
        writeBob: t(() => fs.writeFileSync('/g/bob/evil.txt', 'x')),
        readGlobal: t(() => fs.readFileSync('/g/global/CLAUDE.md', 'utf8')),
        writeGlobal: t(() => fs.writeFileSync('/g/global/evil.txt', 'x')),
      }));`,
      [{ hostPath: paths.groups, sandboxPath: '/g', readOnly: false }],
    );
    expect(out).toEqual({
      own: 'ok',
      listGroups: 'EACCES',
      readBob: 'EACCES',
      listBob: 'EACCES',
      writeBob: 'EACCES',
      readGlobal: 'shared facts',
      writeGlobal: 'EACCES',
    });
    // What alice wrote is alice's on the host.
    const note = statSync(join(a.groupDir, 'note.txt'));
    expect([note.uid, note.gid]).toEqual([alice.uid, SHARED_GID]);
    expect(readFileSync(join(b.groupDir, 'diary.txt'), 'utf8')).toBe('bob secret');
  });

  it('the runtime starts the agent as its uid with umask 022, whatever the daemon umask', async () => {
    const a = prepare('alice', alice);
    const previous = process.umask(0o077);
    let handle;
    try {
      handle = rt.spawn({
        id: 'umask-test',
        command: [process.execPath, '-e', "require('fs').writeFileSync('made.txt', 'x')"],
        mounts: [{ hostPath: a.groupDir, sandboxPath: '/workspace/group', readOnly: false }],
        env: { PATH: '/usr/bin:/bin' },
        workdir: '/workspace/group',
        uid: alice.uid,
        gid: alice.gid,
        limits: { memoryMb: 512, cpus: 1, pids: 64, wallTimeMs: 15_000 },
        network: { mode: 'none' },
      });
    } finally {
      process.umask(previous);
    }
    expect((await collect(handle)).exit.code).toBe(0);
    const made = statSync(join(a.groupDir, 'made.txt'));
    expect([made.uid, made.gid, made.mode & 0o777]).toEqual([alice.uid, SHARED_GID, 0o644]);
  });

  it('the shared parents are traversable by sandboxes only; group dirs are their own 0700', () => {
    const previous = process.umask(0o077);
    let dirs;
    try {
      dirs = prepare('alice', alice, true);
    } finally {
      process.umask(previous);
    }
    for (const d of [paths.home, paths.groups, paths.ipc, paths.sessions]) {
      const st = statSync(d);
      expect([st.uid, st.gid, st.mode & 0o7777], d).toEqual([0, SHARED_GID, 0o710]);
    }
    for (const d of [dirs.groupDir, dirs.ipcDir, join(dirs.ipcDir, 'requests'), dirs.sessionDir]) {
      const st = statSync(d);
      expect([st.uid, st.gid], d).toEqual([alice.uid, SHARED_GID]);
    }
    for (const d of [dirs.groupDir, dirs.ipcDir, dirs.sessionDir]) {
      expect(statSync(d).mode & 0o777, d).toBe(0o700);
    }
    const global = statSync(join(paths.groups, 'global'));
    expect([global.uid, global.gid, global.mode & 0o777]).toEqual([alice.uid, SHARED_GID, 0o750]);
    expect(statSync(join(paths.groups, 'global', 'CLAUDE.md')).mode & 0o777).toBe(0o640);
  });

  it('hand-over and global sharing never follow links an agent planted', async () => {
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'sentinel'), 'host file', { mode: 0o600 });
    writeFileSync(join(outside, 'dir', 'inner'), 'host file', { mode: 0o600 });
    const a = prepare('alice', alice, true);
    const global = join(paths.groups, 'global');
    // The agent (main, so global is writable) plants links to host files and directories.
    await inSandbox(
      alice,
      a.groupDir,
      `const fs = require('fs');
      for (const d of ['/workspace/group', '/workspace/global']) {
        fs.symlinkSync(${JSON.stringify(join(outside, 'sentinel'))}, d + '/file-link');
        fs.symlinkSync(${JSON.stringify(join(outside, 'dir'))}, d + '/dir-link');
        fs.mkdirSync(d + '/sub');
        fs.symlinkSync(${JSON.stringify(outside)}, d + '/sub/deeper-link');
      }
      fs.symlinkSync(${JSON.stringify(outside)}, '/workspace/group/attachments');
      console.log('{}');`,
      [{ hostPath: global, sandboxPath: '/workspace/global', readOnly: false }],
    );
    // The ids change (a new uid range): the host walks both trees again.
    const moved: SandboxIdentity = { uid: 71_001, gid: 71_000 };
    handOver(a.groupDir, moved);
    shareGlobal(global, moved.uid, moved.gid);
    // Host files written into the folder for the agent refuse the planted directory link.
    await expect(safeMkdirp(a.groupDir, 'attachments', { inheritOwner: true })).rejects.toThrow(
      /symlink/,
    );
    await expect(
      safeWriteFile(a.groupDir, 'attachments/x.jpg', 'x', { inheritOwner: true }),
    ).rejects.toThrow(/symlink/);

    for (const p of [outside, join(outside, 'sentinel'), join(outside, 'dir', 'inner')]) {
      const st = statSync(p);
      expect([st.uid, st.gid], p).toEqual([0, 0]);
    }
    expect(statSync(join(outside, 'sentinel')).mode & 0o777).toBe(0o600);
    expect(statSync(join(outside, 'dir', 'inner')).mode & 0o777).toBe(0o600);
    // The links themselves and the real entries did change hands.
    expect(lstatSync(join(a.groupDir, 'file-link')).uid).toBe(moved.uid);
    expect(statSync(join(a.groupDir, 'sub')).uid).toBe(moved.uid);
    expect(statSync(join(global, 'sub')).uid).toBe(moved.uid);
  });
});
