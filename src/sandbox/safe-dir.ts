/**
 * A directory below root held open for many operations on its entries: one no-follow walk
 * (see safe-fs.ts) instead of one per file, for a queue drained file by file. Every operation
 * acts on the directory that was opened, even if the sandbox renames it or puts something
 * else at its name meanwhile (on Linux; the portable walk resolves the path each time).
 */
import { unlink } from 'node:fs/promises';
import { UnsafePathError } from './errors.js';
import {
  createEntry,
  DEFAULT_MAX_READ_BYTES,
  listEntries,
  openDir,
  readEntry,
  splitRelative,
  statEntry,
  type FileOwner,
  type SafeDirEntry,
  type SafeEntryStat,
} from './safe-fs.js';

/** An open directory; `name` arguments are single entry names (no `/`, `.` or `..`). */
export interface SafeDir {
  /** `root/rel`, for messages. */
  readonly shown: string;
  list(): Promise<SafeDirEntry[]>;
  /** As safeReadFile: regular files with one link, no symlink, FIFO or device, capped. */
  readFile(name: string, opts?: { maxBytes?: number }): Promise<Buffer>;
  /** As safeCreateFile: whole or not at all, never replacing what has the name. */
  createFile(
    name: string,
    data: string | Uint8Array,
    opts?: { mode?: number; owner?: FileOwner },
  ): Promise<'created' | 'exists'>;
  lstat(name: string): Promise<SafeEntryStat>;
  /** Removes the entry (a symlink itself, never its target). */
  unlink(name: string): Promise<void>;
  close(): Promise<void>;
}

function entryName(name: string): string {
  if (splitRelative(name).length !== 1)
    throw new UnsafePathError(`"${name}" is a path; expected one entry name`);
  return name;
}

/** Opens `rel` below root without following a symlink in any component. */
export async function safeOpenDir(root: string, rel: string): Promise<SafeDir> {
  const dir = await openDir(root, splitRelative(rel));
  const shown = `${root}/${rel}`;
  return {
    shown,
    list: () => listEntries(dir),
    readFile: async (name, opts = {}) =>
      readEntry(dir, entryName(name), `${shown}/${name}`, opts.maxBytes ?? DEFAULT_MAX_READ_BYTES),
    createFile: async (name, data, opts = {}) => createEntry(dir, entryName(name), data, opts),
    lstat: async (name) => statEntry(dir, entryName(name)),
    unlink: async (name) => unlink(`${dir.path}/${entryName(name)}`),
    close: () => dir.close(),
  };
}
