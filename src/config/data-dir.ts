/**
 * Data at rest: everything in the data dir is the daemon's alone. At every start the data dir
 * and its directories get mode 0700 and its files 0600 (the database with its WAL and shared
 * memory, config.yaml, .env, api-token, state files), and so does everything under `logs/`.
 * Directories a sandbox must traverse are opened again, only to the sandboxes' gid, when a
 * sandbox starts (see sandbox/group-dirs.ts); group folders are their group's (0700).
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from './load.js';

/** Mode of private directories and files. */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** The umask of the daemon process: whatever a library creates is private too. */
export const DAEMON_UMASK = 0o077;

/** Sets `mode` on `path` (not a symlink); a problem is described in `problems`, not thrown. */
function setMode(path: string, mode: number, problems: string[]): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return; // never follow a link out of the data dir
  if ((st.mode & 0o7777) === mode) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    problems.push(
      `${path} could not be made private (mode ${mode.toString(8).padStart(4, '0')}): ${code}, owner uid ${st.uid}; run: chown -R $(id -u) ${path} && chmod ${mode.toString(8)} ${path}`,
    );
  }
}

/** `dir` 0700 and everything below it 0700 (dirs) / 0600 (files); symlinks are not followed. */
function privateTree(dir: string, problems: string[]): void {
  setMode(dir, PRIVATE_DIR, problems);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) privateTree(p, problems);
    else if (e.isFile()) setMode(p, PRIVATE_FILE, problems);
  }
}

/**
 * Makes the data dir private (call once at start, before any sandbox runs): the dir and each
 * directory in it 0700, each file in it 0600, `logs/` recursively. Group, IPC and session
 * folders below `groups/`, `ipc/`, `sessions/` are left to the sandbox hand-over. Returns what
 * could not be changed (e.g. a file of another user), for the log; never throws for that.
 */
export function secureDataDir(paths: DataPaths): string[] {
  const problems: string[] = [];
  setMode(paths.home, PRIVATE_DIR, problems);
  for (const e of readdirSync(paths.home, { withFileTypes: true })) {
    const p = join(paths.home, e.name);
    if (p === paths.logs && e.isDirectory()) privateTree(p, problems);
    else if (e.isDirectory()) setMode(p, PRIVATE_DIR, problems);
    else if (e.isFile()) setMode(p, PRIVATE_FILE, problems);
  }
  return problems;
}
