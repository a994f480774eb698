import { randomBytes } from 'node:crypto';
import { lchownSync, lstatSync, mkdirSync, readlinkSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { IPC_DIRS } from '../protocol/ipc.js';
import type { FileOwner } from '../sandbox/safe-fs.js';

/** Name prefix of a broken queue entry set aside in the group's IPC folder until errors/ takes it. */
export const QUARANTINE_PREFIX = '.quarantined-';

/** One queue that was not a real directory, and where what stood there went. */
export interface QuarantinedDir {
  dir: (typeof IPC_DIRS)[number];
  found: 'file' | 'symlink' | 'other';
  /** A symlink's target text (never followed). */
  target?: string;
  /** Its name in the group's IPC folder until it is moved into errors/. */
  movedTo: string;
}

/** What repairGroupDirs found and did. `failed` lists what it could not fix, with the reason. */
export interface DirRepair {
  created: string[];
  quarantined: QuarantinedDir[];
  failed: Array<{ dir: string; error: string }>;
}

type Kind = QuarantinedDir['found'] | 'dir' | 'missing';

function kindOf(path: string): Kind {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return 'symlink';
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

function makeDir(path: string, owner: FileOwner | undefined): void {
  mkdirSync(path);
  // lchown: if the agent swapped the fresh directory for a symlink meanwhile, only its own link
  // changes owner.
  if (owner) lchownSync(path, owner.uid, owner.gid);
}

/**
 * Makes `<ipcRoot>/<folder>` and its queues (requests, responses, tasks, errors) real
 * directories, recreating any that is missing or is something else (a file, a symlink, dangling
 * or not, a FIFO); what stood there is renamed to `.quarantined-<dir>-…` beside it, for the
 * caller to move into errors/ (with the safe walk) and report. Never throws.
 *
 * Synchronous, because it runs right before a sandbox starts. It is safe without the openat walk:
 * it only touches direct children of the group's IPC folder, which is the sandbox's mount point
 * (the sandbox can change what is inside it, never the folder itself or its parent), and lstat,
 * rename and mkdir do not follow a symlink in the last component.
 */
export function repairGroupDirs(
  ipcRoot: string,
  folder: string,
  owner: FileOwner | undefined,
  now: number,
): DirRepair {
  const out: DirRepair = { created: [], quarantined: [], failed: [] };
  const root = join(ipcRoot, folder);
  try {
    const kind = kindOf(root);
    if (kind === 'missing') {
      makeDir(root, owner);
      out.created.push('.');
    } else if (kind !== 'dir') {
      // Not something a sandbox can do (it never sees ipcRoot): leave the operator's doing alone.
      out.failed.push({ dir: '.', error: `${root} is a ${kind}, not a directory` });
      return out;
    }
  } catch (err) {
    out.failed.push({ dir: '.', error: (err as Error).message });
    return out;
  }
  for (const dir of IPC_DIRS) {
    const path = join(root, dir);
    // The agent may be changing the same entry right now: a step that loses the race
    // (EEXIST, ENOENT) looks again, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        const kind = kindOf(path);
        if (kind === 'dir') break;
        if (kind !== 'missing') {
          const target = kind === 'symlink' ? readlinkSync(path) : undefined;
          const movedTo = `${QUARANTINE_PREFIX}${dir}-${now}-${randomBytes(3).toString('hex')}`;
          renameSync(path, join(root, movedTo));
          out.quarantined.push({ dir, found: kind, target, movedTo });
        }
        makeDir(path, owner);
        out.created.push(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'EEXIST' || code === 'ENOENT') && attempt < 5) continue;
        out.failed.push({ dir, error: (err as Error).message });
        break;
      }
    }
  }
  return out;
}
