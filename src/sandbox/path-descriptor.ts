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
 * Opens `root` and then each of `comps` below it as a directory, every step through
 * /proc/self/fd/<parent>/<name> with O_NOFOLLOW (an openat() walk): a symlink anywhere on the
 * way is never followed, and a folder renamed meanwhile is not reached. `flags` are the open
 * flags of every step (O_DIRECTORY is added); `fail` makes the error thrown for the step at
 * `shown` (its /proc `entry` can still be lstat-ed). Linux only (see canHoldDirectories).
 */
export async function walkDirectories(
  root: string,
  comps: readonly string[],
  flags: number,
  fail: (err: unknown, entry: string, shown: string) => Promise<Error>,
): Promise<FileHandle> {
  let fh: FileHandle = await open(root, flags | O_DIRECTORY);
  let shown = root === '/' ? '' : root;
  try {
    for (const c of comps) {
      shown = `${shown}/${c}`;
      const entry = `/proc/self/fd/${fh.fd}/${c}`;
      let next: FileHandle;
      try {
        next = await open(entry, flags | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        throw await fail(e, entry, shown);
      }
      await fh.close();
      fh = next;
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

/**
 * Opens the absolute, normalised directory `path` component by component, refusing a symlink at
 * any of them (PathWalkError). Only search permission is needed on the way (O_PATH).
 */
export async function holdDirectory(path: string): Promise<HeldDirectory> {
  if (!path.startsWith('/')) throw new PathWalkError(path, 'missing');
  const comps = path.split('/').filter(Boolean);
  const bad = comps.findIndex((c) => c === '.' || c === '..');
  if (bad >= 0) throw new PathWalkError(`/${comps.slice(0, bad + 1).join('/')}`, 'not-directory');
  const held = await walkDirectories('/', comps, O_PATH, (e, entry, shown) =>
    walkError(entry, shown, e),
  );
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
