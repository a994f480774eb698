/**
 * A host directory held by an open descriptor, reached from `/` one component at a time
 * without following a symlink (O_PATH|O_NOFOLLOW through /proc/self/fd on Linux). A runtime
 * that can bind a descriptor (bubblewrap's --bind-fd) then mounts exactly the directory that
 * was checked, even if something renames a folder on its path or puts a symlink there between
 * the check and the mount.
 */
import { constants, existsSync } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

/** Linux's O_PATH (the same on x86, arm and their 64-bit forms); node does not export it. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW } = constants;

/** A directory held open; `fd` stays valid until close(). */
export interface HeldDirectory {
  fd: number;
  close(): Promise<void>;
}

/** Why a path could not be held: a symlink or a non-directory at `at`, or it is gone. */
export class PathWalkError extends Error {
  constructor(
    readonly at: string,
    readonly problem: 'symlink' | 'not-directory' | 'missing' | 'unreadable',
    detail?: string,
  ) {
    super(
      problem === 'symlink'
        ? `${at} is a symlink`
        : problem === 'not-directory'
          ? `${at} is not a directory`
          : problem === 'missing'
            ? `${at} does not exist`
            : `${at} cannot be opened (${detail ?? 'unknown error'})`,
    );
    this.name = 'PathWalkError';
  }
}

/** Descriptors are only meaningful where /proc/self/fd exists (Linux). */
export function canHoldDirectories(): boolean {
  return process.platform === 'linux' && existsSync('/proc/self/fd');
}

/**
 * Opens the absolute, normalised directory `path` component by component, refusing a symlink at
 * any of them (PathWalkError). Only search permission is needed on the way (O_PATH).
 */
export async function holdDirectory(path: string): Promise<HeldDirectory> {
  if (!path.startsWith('/')) throw new PathWalkError(path, 'missing');
  const comps = path.split('/').filter(Boolean);
  let fh: FileHandle = await open('/', O_PATH | O_DIRECTORY);
  let shown = '';
  try {
    for (const c of comps) {
      if (c === '.' || c === '..') throw new PathWalkError(`${shown}/${c}`, 'not-directory');
      shown = `${shown}/${c}`;
      const entry = `/proc/self/fd/${fh.fd}/${c}`;
      let next: FileHandle;
      try {
        next = await open(entry, O_PATH | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        throw await walkError(entry, shown, e);
      }
      await fh.close();
      fh = next;
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  const held = fh;
  return { fd: held.fd, close: () => held.close() };
}

async function walkError(entry: string, shown: string, e: unknown): Promise<PathWalkError> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new PathWalkError(shown, 'missing');
  // O_NOFOLLOW|O_DIRECTORY on a symlink reports ENOTDIR (or ELOOP): tell the two apart.
  const st = await lstat(entry).catch(() => null);
  if (st?.isSymbolicLink()) return new PathWalkError(shown, 'symlink');
  if (code === 'ENOTDIR' || code === 'ELOOP') return new PathWalkError(shown, 'not-directory');
  return new PathWalkError(shown, 'unreadable', (e as Error).message);
}
