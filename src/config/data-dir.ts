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

function setMode(path: string, mode: number): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return; // never follow a link out of the data dir
  if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
}

/** `dir` 0700 and everything below it 0700 (dirs) / 0600 (files); symlinks are not followed. */
function privateTree(dir: string): void {
  setMode(dir, PRIVATE_DIR);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) privateTree(p);
    else if (e.isFile()) setMode(p, PRIVATE_FILE);
  }
}

/**
 * Makes the data dir private (call once at start, before any sandbox runs): the dir and each
 * directory in it 0700, each file in it 0600, `logs/` recursively. Group, IPC and session
 * folders below `groups/`, `ipc/`, `sessions/` are left to the sandbox hand-over.
 */
export function secureDataDir(paths: DataPaths): void {
  setMode(paths.home, PRIVATE_DIR);
  for (const e of readdirSync(paths.home, { withFileTypes: true })) {
    const p = join(paths.home, e.name);
    if (p === paths.logs && e.isDirectory()) privateTree(p);
    else if (e.isDirectory()) setMode(p, PRIVATE_DIR);
    else if (e.isFile()) setMode(p, PRIVATE_FILE);
  }
}
