/**
 * What a bubblewrap sandbox learns about the host path of CLAWPOD_HOME from
 * /proc/self/mountinfo (docs/sandbox.md, "What a sandbox can learn"). Mount points are always
 * sandbox paths; the "root" field of a bind mount is the source's path inside its filesystem,
 * which bubblewrap cannot rewrite. So the host path stays hidden exactly when CLAWPOD_HOME is a
 * filesystem of its own. Root only (it mounts a tmpfs as the data dir).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataPaths } from '../config/load.js';
import { BubblewrapRuntime, nodeDirIfOutsideSystem } from './bubblewrap.js';
import { findExecutable } from './exec-util.js';
import { prepareGroupDirs } from './group-dirs.js';
import { buildGroupMounts } from './mount-policy.js';
import { collect } from './test-support.js';

const searchPath = process.env.PATH ?? '/usr/bin:/bin';
const nodeDir = nodeDirIfOutsideSystem(process.execPath);
const rt = new BubblewrapRuntime({ searchPath, extraSystemPaths: nodeDir ? [nodeDir] : [] });
const bwrap = findExecutable('bwrap', searchPath);
const avail = bwrap ? await rt.available() : null;
const skipReason = !bwrap
  ? 'SKIPPED: bwrap not installed'
  : !avail?.ok
    ? `SKIPPED: bwrap cannot create sandboxes here: ${avail?.reason}`
    : process.getuid?.() !== 0
      ? 'SKIPPED: needs root (mounts a tmpfs as the data dir)'
      : '';

const owner = { uid: 70_001, gid: 70_000 };

describe.skipIf(skipReason !== '')(`mountinfo inside a sandbox ${skipReason}`, () => {
  let base: string;
  let mounted: string | null = null;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'clawpod-mountinfo-'));
    chmodSync(base, 0o755);
  });
  afterEach(() => {
    if (mounted) execFileSync('umount', [mounted]);
    mounted = null;
    rmSync(base, { recursive: true, force: true });
  });

  /** The mountinfo a group's sandbox sees, for a data dir at `home`. */
  async function sandboxMountinfo(home: string): Promise<string> {
    const paths = dataPaths(home);
    for (const d of [paths.home, paths.groups, paths.ipc, paths.sessions]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    const dirs = prepareGroupDirs({ paths, folder: 'team', isMain: false, owner, traverse: true });
    const { mounts } = await buildGroupMounts(
      { dataDir: home, allowlistPath: join(base, 'no-allowlist.json'), homeDir: base },
      { folder: 'team', isMain: false, sessionDir: dirs.sessionDir },
    );
    const r = await collect(
      rt.spawn({
        id: 'mountinfo',
        command: ['/bin/cat', '/proc/self/mountinfo'],
        mounts,
        env: { PATH: '/usr/bin:/bin' },
        workdir: '/workspace/group',
        ...owner,
        limits: { memoryMb: 256, cpus: 1, pids: 32, wallTimeMs: 15_000 },
        network: { mode: 'none' },
      }),
    );
    expect(r.exit, r.stderr).toEqual({ code: 0, signal: null });
    return r.stdout;
  }

  const lineFor = (info: string, mountPoint: string) =>
    info.split('\n').find((l) => l.split(' ')[4] === mountPoint);

  it('a data dir that is a filesystem of its own never shows its host path', async () => {
    const home = join(base, 'clawpod-home');
    mkdirSync(home);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'clawpod-data', home]);
    mounted = home;
    const info = await sandboxMountinfo(home);
    expect(info).not.toContain(base);
    // Only paths inside the data dir's own filesystem, and the sandbox's own mount points.
    expect(lineFor(info, '/workspace/group')?.split(' ')[3]).toBe('/groups/team');
    expect(lineFor(info, '/workspace/ipc')?.split(' ')[3]).toBe('/ipc/team');
  });

  it('documents the limit: on a shared filesystem the bind source path is visible', async () => {
    const home = join(base, 'clawpod-home');
    const info = await sandboxMountinfo(home);
    // Mount points are sandbox paths; the "root" field of each bind is the host path.
    expect(lineFor(info, '/workspace/group')?.split(' ')[3]).toMatch(
      new RegExp(`${home}/groups/team$`),
    );
  });
});
