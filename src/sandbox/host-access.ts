/**
 * Can the sandbox uid reach a host path? When the daemon runs as root, bubblewrap is started as
 * the sandbox uid itself (so the sandboxed process is not host root), and then every mount
 * source must be traversable - and rw mounts writable - by that uid. Checking this up front
 * turns bwrap's terse "Can't find source path" into an error that says what to chmod/chown.
 * Mode bits are checked first; what they refuse is asked of the kernel as that uid (ACLs).
 * Supplementary groups are dropped at spawn.
 */
import { spawnSync } from 'node:child_process';
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { MountUnreachableError } from './errors.js';
import type { Mount } from './runtime.js';

const R = 4;
const W = 2;
const X = 1;

function allowed(st: Stats, uid: number, gid: number, want: number): boolean {
  const bits =
    st.uid === uid ? (st.mode >> 6) & 7 : st.gid === gid ? (st.mode >> 3) & 7 : st.mode & 7;
  return (bits & want) === want;
}

function fmt(st: Stats): string {
  return `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${st.uid}:${st.gid}`;
}

/**
 * The first problem that keeps `uid:gid` from using `path` (absolute), or null when none.
 * Directories need r+x (and w when `needWrite`), other files r (and w).
 */
export function reachProblem(
  path: string,
  uid: number,
  gid: number,
  needWrite: boolean,
): string | null {
  const above = traversalProblem(path, uid, gid);
  if (above) return above;
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return `${path} does not exist (${(e as Error).message})`;
  }
  const want = (st.isDirectory() ? R | X : R) | (needWrite ? W : 0);
  if (!allowed(st, uid, gid, want)) {
    const what = needWrite ? 'readable and writable' : 'readable';
    return `${path} is not ${what} by uid ${uid}:${gid} (${fmt(st)})`;
  }
  return null;
}

/** The first directory above `path` (absolute) that `uid:gid` cannot traverse, or null. */
export function traversalProblem(path: string, uid: number, gid: number): string | null {
  const ancestors: string[] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    ancestors.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const dir of ancestors) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (e) {
      return `${dir} cannot be read (${(e as Error).message})`;
    }
    if (!allowed(st, uid, gid, X)) return `${dir} is not traversable by uid ${uid} (${fmt(st)})`;
  }
  return null;
}

/**
 * Whether the kernel lets `uid:gid` (no supplementary groups) use `path`, ACLs included: `test`
 * run as that user. Only asked when the mode bits say no (a few ms per call; root only).
 */
export function kernelAllows(path: string, uid: number, gid: number, needWrite: boolean): boolean {
  let dir: boolean;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    return false;
  }
  const tests = ['-r', ...(dir ? ['-x'] : []), ...(needWrite ? ['-w'] : [])];
  const script = tests.map((t) => `test ${t} "$1"`).join(' && ');
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', path], {
    uid,
    gid,
    env: {},
    stdio: 'ignore',
    timeout: 5000,
  });
  return r.status === 0;
}

/**
 * Throw MountUnreachableError for the first mount the sandbox uid cannot use. Mode bits first;
 * a mount they refuse is asked of the kernel as that uid (an ACL may grant it: `setfacl`).
 */
export function assertMountsReachable(mounts: readonly Mount[], uid: number, gid: number): void {
  for (const m of mounts) {
    const problem = reachProblem(m.hostPath, uid, gid, !m.readOnly);
    if (problem && !kernelAllows(m.hostPath, uid, gid, !m.readOnly)) {
      // A group's own host folder (/workspace/extra/…) stays the owner's: grant with an ACL.
      const hint = m.sandboxPath.startsWith('/workspace/extra/')
        ? `Give uid ${uid} access and keep yours: setfacl -m u:${uid}:x on each folder above ${m.hostPath}, then setfacl -R -m u:${uid}:${m.readOnly ? 'rX' : 'rwX'},d:u:${uid}:${m.readOnly ? 'rX' : 'rwX'} ${m.hostPath}`
        : `Give the sandbox user access (e.g. chown -R ${uid}:${gid} on the group/IPC/session dirs, and let uid ${uid} or gid ${gid} traverse their parents), or keep CLAWPOD_HOME in a directory that uid can traverse (not /root)`;
      throw new MountUnreachableError(
        `Sandbox uid ${uid} cannot use mount ${m.hostPath} -> ${m.sandboxPath}: ${problem}`,
        hint,
      );
    }
  }
}
