/**
 * A group's directories on the host and who owns them. Before each sandbox starts, its group
 * folder, IPC dir and session dir exist and, when the daemon is root, belong to the group's
 * sandbox uid with mode 0700: no other group (another uid) and no local user can read them.
 *
 * The shared parents (the data dir, `groups/`, `ipc/`, `sessions/`) stay the daemon's; when the
 * runtime reaches mount sources as the sandbox uid itself (bubblewrap, none) they get mode 0710
 * with the sandboxes' shared gid, so sandboxes may traverse them (never list them) and other
 * local users may not even traverse. Container runtimes mount as root and need no traversal.
 * `groups/global` is the main group's, readable (not writable) through the shared gid.
 *
 * The trees are sandbox-writable: the walks below open every directory by file descriptor
 * without following symlinks, so a planted link cannot redirect a chown or chmod to a host file.
 */
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../config/load.js';
import { IPC_DIRS } from '../protocol/ipc.js';
import type { SandboxIdentity } from './sandbox-ids.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** What preparing one group's directories needs. */
export interface GroupDirsRequest {
  paths: DataPaths;
  folder: string;
  isMain: boolean;
  /** The group's sandbox uid/gid (the gid is shared by all sandboxes of a root daemon). */
  owner: SandboxIdentity;
  /** The runtime opens mount sources as the sandbox uid (bubblewrap, none): open traversal. */
  traverse: boolean;
  /** The daemon runs as root (default: asked from the process). Only root hands over. */
  root?: boolean;
}

/** The group's host directories. */
export interface GroupDirs {
  groupDir: string;
  ipcDir: string;
  sessionDir: string;
}

/** Mode of the shared parents when sandboxes must traverse them: owner all, shared gid x. */
export const TRAVERSE_MODE = 0o710;
/** Mode of a group's own directories (their top). */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates the group's folder, IPC queues and session dir; a root daemon hands them to the
 * group's uid (mode 0700), opens the shared parents to the sandbox gid when `traverse`, and
 * shares `groups/global` read-only through that gid (owned by main's uid).
 */
export function prepareGroupDirs(req: GroupDirsRequest): GroupDirs {
  const { paths, folder, owner } = req;
  const groupDir = join(paths.groups, folder);
  const ipcDir = join(paths.ipc, folder);
  const sessionDir = join(paths.sessions, folder);
  mkdirSync(groupDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  for (const d of IPC_DIRS) mkdirSync(join(ipcDir, d), { recursive: true, mode: PRIVATE_DIR_MODE });
  mkdirSync(sessionDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const root = req.root ?? process.getuid?.() === 0;
  if (root) {
    if (req.traverse) {
      for (const d of [paths.home, paths.groups, paths.ipc, paths.sessions]) {
        openTraversal(d, owner.gid);
      }
    }
    for (const d of [groupDir, ipcDir, sessionDir]) handOver(d, owner);
    const globalDir = join(paths.groups, 'global');
    if (existsSync(globalDir)) shareGlobal(globalDir, req.isMain ? owner.uid : null, owner.gid);
  }
  for (const d of [groupDir, ipcDir, sessionDir]) chmodSync(d, PRIVATE_DIR_MODE);
  return { groupDir, ipcDir, sessionDir };
}

/** Lets `gid` traverse (not list) `dir`; its owner stays. */
function openTraversal(dir: string, gid: number): void {
  const st = statSync(dir);
  if (st.gid !== gid) chownSync(dir, st.uid, gid);
  if ((st.mode & 0o7777) !== TRAVERSE_MODE) chmodSync(dir, TRAVERSE_MODE);
}

/**
 * Gives a directory tree to the sandbox identity. Only when its top is not theirs yet (first
 * run, or a changed uid range), so big folders are not walked on every run.
 */
export function handOver(dir: string, owner: SandboxIdentity): void {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory() || (st.uid === owner.uid && st.gid === owner.gid)) return;
  walkTree(dir, owner, st.uid, (fd) => fchownSync(fd, owner.uid, owner.gid));
}

/**
 * Makes `groups/global` readable by every sandbox through the shared gid: group r(x) on every
 * entry, mode 0750 on the top. `mainUid` (when main runs) becomes its owner, the only writer.
 */
export function shareGlobal(dir: string, mainUid: number | null, gid: number): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) return;
  const uid = mainUid ?? st.uid;
  const shared = (st.mode & 0o050) === 0o050 && (st.mode & 0o007) === 0;
  if (st.uid === uid && st.gid === gid && shared) return;
  walkTree(dir, { uid, gid }, st.uid, (fd, s) => {
    fchownSync(fd, uid, gid);
    fchmodSync(fd, (s.mode & 0o7770) | (s.isDirectory() ? 0o050 : 0o040));
  });
}

let procFd: boolean | undefined;
const hasProcFd = () => (procFd ??= existsSync('/proc/self/fd'));

/**
 * Calls `apply` with an open descriptor of `top` and of every directory and regular file below
 * it, never following a symlink: directories are opened by descriptor (through
 * /proc/self/fd/<parent>/<name> with O_NOFOLLOW on Linux), files with O_NOFOLLOW|O_NONBLOCK.
 * Symlinks and other entries only get their own owner changed (lchown, never followed). A
 * file with more than one link is applied to only when it belonged to the tree's previous
 * (non-root) owner: a hard link to someone else's file is left alone.
 */
function walkTree(
  top: string,
  owner: SandboxIdentity,
  previousOwner: number,
  apply: (fd: number, st: Stats) => void,
): void {
  const visitDir = (path: string) => {
    let fd: number;
    try {
      fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch {
      return; // swapped for a symlink or removed meanwhile: not followed
    }
    try {
      apply(fd, fstatSync(fd));
      const base = hasProcFd() ? `/proc/self/fd/${fd}` : path;
      for (const e of readdirSync(base, { withFileTypes: true })) {
        const child = `${base}/${e.name}`;
        if (e.isDirectory()) visitDir(child);
        else if (e.isFile()) visitFile(child);
        else tryLchown(child, owner);
      }
    } finally {
      closeSync(fd);
    }
  };
  const visitFile = (path: string) => {
    let fd: number;
    try {
      fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      tryLchown(path, owner); // a symlink now: its own owner only
      return;
    }
    try {
      const st = fstatSync(fd);
      const linked = st.nlink > 1 && (st.uid !== previousOwner || st.uid === 0);
      if (st.isFile() && !linked) apply(fd, st);
    } finally {
      closeSync(fd);
    }
  };
  visitDir(top);
}

function tryLchown(path: string, owner: SandboxIdentity): void {
  try {
    lchownSync(path, owner.uid, owner.gid);
  } catch {
    // gone meanwhile
  }
}
