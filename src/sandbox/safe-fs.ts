/**
 * Host-side file operations inside directories a sandbox can write (group folders, IPC dirs).
 * A sandbox may plant symlinks, FIFOs or hard links there to make the host read /etc/shadow,
 * hang on a pipe, or write outside. These helpers never follow a symlink below `root`:
 *
 * - On Linux every directory below root is opened component by component through
 *   /proc/self/fd/<parent>/<name> with O_NOFOLLOW|O_DIRECTORY (an openat() walk), so swapping a
 *   directory for a symlink between check and use cannot redirect the operation.
 * - Elsewhere (no /proc) each component is lstat-checked before use (racy; documented).
 *
 * Files are opened with O_NOFOLLOW|O_NONBLOCK and must be regular files with one link.
 * `rel` is always relative: no absolute path, no empty, `.` or `..` component, no NUL.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, type Stats } from 'node:fs';
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { UnsafePathError } from './errors.js';
import { walkDirectories } from './path-descriptor.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Default cap for safeReadFile. */
export const DEFAULT_MAX_READ_BYTES = 16 * 1024 * 1024;

/** An entry of safeReadDir; `symlink` and `other` entries should be treated as hostile. */
export interface SafeDirEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
}

/** An entry as lstat sees it (the entry itself, never what a symlink points to). */
export interface SafeEntryStat extends SafeDirEntry {
  size: number;
  /** Modification time (the writer can set it: use it for housekeeping, never for authority). */
  mtimeMs: number;
}

const typeOf = (st: Stats): SafeDirEntry['type'] =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';

let procFdAvailable: boolean | undefined;
function useProcFd(): boolean {
  procFdAvailable ??= existsSync('/proc/self/fd');
  return procFdAvailable;
}

/** Tests only: force the portable lstat walk (true) or back to auto-detection (false). */
export function forceLstatWalkForTests(on: boolean): void {
  procFdAvailable = on ? false : undefined;
}

/** Split and validate a relative path. */
export function splitRelative(rel: string): string[] {
  if (typeof rel !== 'string' || rel.length === 0) throw new UnsafePathError('Empty relative path');
  if (rel.startsWith('/'))
    throw new UnsafePathError(`Path "${rel}" is absolute; expected a relative path`);
  if (rel.includes('\0')) throw new UnsafePathError(`Path "${rel}" contains NUL`);
  const comps = rel.split('/');
  for (const c of comps) {
    if (c === '' || c === '.' || c === '..') {
      throw new UnsafePathError(`Path "${rel}" has an empty, "." or ".." component`);
    }
  }
  return comps;
}

/** An open directory below root, addressable as `${dir.path}/${name}`. */
export interface DirRef {
  path: string;
  /** Changes the owner of the directory itself (through its open descriptor on Linux). */
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

/** A uid/gid to give created files and directories (the sandbox user, for a root daemon). */
export interface FileOwner {
  uid: number;
  gid: number;
}

function translate(err: unknown, where: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') throw new UnsafePathError(`${where} is a symlink; refusing to follow it`);
  if (code === 'ENOTDIR') throw new UnsafePathError(`${where} is not a directory`);
  throw err;
}

/** Open root, then each of `comps` as a directory without following symlinks (safe-dir.ts too). */
export async function openDir(root: string, comps: readonly string[]): Promise<DirRef> {
  if (!useProcFd()) {
    let path = root;
    for (const c of comps) {
      path = `${path}/${c}`;
      const st = await lstat(path);
      if (st.isSymbolicLink())
        throw new UnsafePathError(`${path} is a symlink; refusing to follow it`);
      if (!st.isDirectory()) throw new UnsafePathError(`${path} is not a directory`);
    }
    return { path, chown: (uid, gid) => lchown(path, uid, gid), close: async () => {} };
  }
  const held = await walkDirectories(root, comps, O_RDONLY, async (e, entry, shown) => {
    // Linux reports a symlink opened with O_NOFOLLOW|O_DIRECTORY as ENOTDIR: tell them apart.
    const link = await lstat(entry).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    return translate(link ? Object.assign(new Error(), { code: 'ELOOP' }) : e, shown);
  });
  return {
    path: `/proc/self/fd/${held.fd}`,
    chown: (uid, gid) => held.chown(uid, gid),
    close: () => held.close(),
  };
}

async function withParent<T>(
  root: string,
  rel: string,
  fn: (dir: DirRef, name: string) => Promise<T>,
): Promise<T> {
  const comps = splitRelative(rel);
  const name = comps.pop() as string;
  const dir = await openDir(root, comps);
  try {
    return await fn(dir, name);
  } finally {
    await dir.close();
  }
}

/** Read a regular file below root (refusing symlinks, FIFOs, devices, hard links, huge files). */
export async function safeReadFile(
  root: string,
  rel: string,
  opts: { maxBytes?: number } = {},
): Promise<Buffer> {
  return withParent(root, rel, (dir, name) =>
    readEntry(dir, name, `${root}/${rel}`, opts.maxBytes ?? DEFAULT_MAX_READ_BYTES),
  );
}

/** safeReadFile's work on an entry of an open directory (safe-dir.ts too). */
export async function readEntry(
  dir: DirRef,
  name: string,
  shown: string,
  max: number,
): Promise<Buffer> {
  const fh = await open(`${dir.path}/${name}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(
    (e: unknown) => translate(e, shown),
  );
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UnsafePathError(`${shown} is not a regular file`);
    if (st.nlink !== 1) throw new UnsafePathError(`${shown} has ${st.nlink} hard links; refusing`);
    if (st.size > max) throw new UnsafePathError(`${shown} is larger than ${max} bytes`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Options of the creating helpers. */
export interface CreateOptions {
  /** Mode of what is created, applied as given (the process umask does not narrow it). */
  mode?: number;
  /**
   * Give what is created to root's owner (uid and gid): a root daemon writing into a group
   * folder hands the file to that group's sandbox uid, which may then change or delete it.
   */
  inheritOwner?: boolean;
  /** Give what is created to this owner (set on the open file, never by path). */
  owner?: FileOwner;
}

/** The owner of `root` itself (it is the host's choice, unlike anything below it). */
async function rootOwner(root: string): Promise<{ uid: number; gid: number }> {
  const st = await lstat(root);
  return { uid: st.uid, gid: st.gid };
}

/**
 * Write a file below root atomically: a fresh temp file (O_EXCL|O_NOFOLLOW) in the same
 * directory, then rename over the target (a planted symlink at the target is replaced, not
 * followed). Mode 0644 unless `mode` says otherwise.
 */
export async function safeWriteFile(
  root: string,
  rel: string,
  data: string | Uint8Array,
  opts: CreateOptions = {},
): Promise<void> {
  const owner = opts.owner ?? (opts.inheritOwner ? await rootOwner(root) : null);
  await withParent(root, rel, async (dir, name) => {
    const tmp = `.${name}.${randomBytes(6).toString('hex')}.tmp`;
    const mode = opts.mode ?? 0o644;
    const fh = await open(`${dir.path}/${tmp}`, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    try {
      await fh.chmod(mode);
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.writeFile(data);
    } catch (e) {
      await fh.close();
      await unlink(`${dir.path}/${tmp}`).catch(() => {});
      throw e;
    }
    await fh.close();
    try {
      await rename(`${dir.path}/${tmp}`, `${dir.path}/${name}`);
    } catch (e) {
      await unlink(`${dir.path}/${tmp}`).catch(() => {});
      throw e;
    }
  });
}

/**
 * Create a file below root only if nothing has its name yet: the data goes to a fresh temp file
 * (O_EXCL|O_NOFOLLOW), which is then hard-linked to the target name. link() never replaces an
 * existing entry (file, directory, symlink, dangling or not) and never follows one, so a reader
 * sees either nothing or the whole file. Returns `exists` (writing nothing) when the name is taken.
 */
export async function safeCreateFile(
  root: string,
  rel: string,
  data: string | Uint8Array,
  opts: CreateOptions = {},
): Promise<'created' | 'exists'> {
  const owner = opts.owner ?? (opts.inheritOwner ? await rootOwner(root) : undefined);
  return withParent(root, rel, (dir, name) => createEntry(dir, name, data, { ...opts, owner }));
}

/** safeCreateFile's work on an entry of an open directory (safe-dir.ts too). */
export async function createEntry(
  dir: DirRef,
  name: string,
  data: string | Uint8Array,
  opts: { mode?: number; owner?: FileOwner },
): Promise<'created' | 'exists'> {
  const tmp = `${dir.path}/.${name}.${randomBytes(6).toString('hex')}.tmp`;
  const mode = opts.mode ?? 0o644;
  const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    await fh.chmod(mode); // as given: the daemon's umask 077 must not narrow what a sandbox reads
    if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, `${dir.path}/${name}`);
    return 'created';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** lstat of an entry of an open directory (safe-dir.ts too). */
export async function statEntry(dir: DirRef, name: string): Promise<SafeEntryStat> {
  const st = await lstat(`${dir.path}/${name}`);
  return { name, type: typeOf(st), size: st.size, mtimeMs: st.mtimeMs };
}

/** lstat an entry below root (a symlink is described, not followed); parents are never followed. */
export async function safeLstat(root: string, rel: string): Promise<SafeEntryStat> {
  return withParent(root, rel, statEntry);
}

/** The target text of a symlink below root (read, never followed). */
export async function safeReadLink(root: string, rel: string): Promise<string> {
  return withParent(root, rel, (dir, name) => readlink(`${dir.path}/${name}`));
}

/** Rename a file or directory (not a symlink) within root; neither side's parents are followed. */
export async function safeRename(root: string, fromRel: string, toRel: string): Promise<void> {
  await withParent(root, fromRel, async (src, srcName) => {
    const st = await lstat(`${src.path}/${srcName}`);
    if (st.isSymbolicLink())
      throw new UnsafePathError(`${root}/${fromRel} is a symlink; refusing to move it`);
    await withParent(root, toRel, async (dst, dstName) => {
      await rename(`${src.path}/${srcName}`, `${dst.path}/${dstName}`);
    });
  });
}

/** Remove a file (or symlink, which is removed itself) below root. */
export async function safeUnlink(root: string, rel: string): Promise<void> {
  await withParent(root, rel, (dir, name) => unlink(`${dir.path}/${name}`));
}

/** List a directory below root (`''` lists root itself) without following symlinks. */
export async function safeReadDir(root: string, rel = ''): Promise<SafeDirEntry[]> {
  const dir = await openDir(root, rel === '' ? [] : splitRelative(rel));
  try {
    const entries = await readdir(dir.path, { withFileTypes: true });
    return entries.map((e) => ({
      name: e.name,
      type: e.isFile()
        ? 'file'
        : e.isDirectory()
          ? 'dir'
          : e.isSymbolicLink()
            ? 'symlink'
            : 'other',
    }));
  } finally {
    await dir.close();
  }
}

/** The entries of an open directory with their types (safe-dir.ts too). */
export async function listEntries(dir: DirRef): Promise<SafeDirEntry[]> {
  const entries = await readdir(dir.path, { withFileTypes: true });
  return entries.map((e) => ({
    name: e.name,
    type: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : 'other',
  }));
}

/**
 * List a directory below root with each entry's lstat (type, size, mtime). An entry that
 * vanishes between the listing and its lstat is left out.
 */
export async function safeReadDirStat(root: string, rel = ''): Promise<SafeEntryStat[]> {
  const dir = await openDir(root, rel === '' ? [] : splitRelative(rel));
  try {
    const names = await readdir(dir.path);
    const out: SafeEntryStat[] = [];
    // In slices, so a directory of 100,000 entries does not open 100,000 requests at once.
    for (let i = 0; i < names.length; i += 64) {
      const slice = await Promise.all(
        names.slice(i, i + 64).map((name) =>
          lstat(`${dir.path}/${name}`).then(
            (st): SafeEntryStat => ({ name, type: typeOf(st), size: st.size, mtimeMs: st.mtimeMs }),
            () => undefined,
          ),
        ),
      );
      for (const e of slice) if (e) out.push(e);
    }
    return out;
  } finally {
    await dir.close();
  }
}

/**
 * Remove an entry below root; a directory with everything in it. Symlinks are removed, never
 * followed; every directory is opened without following (as in the walk above), so swapping one
 * for a symlink mid-way makes the removal fail, not escape. Trees deeper than `maxDepth` are
 * refused (a planted 10,000-level tree must not exhaust descriptors).
 */
export async function safeRemoveTree(root: string, rel: string, maxDepth = 32): Promise<void> {
  await withParent(root, rel, (dir, name) => removeEntry(dir, name, maxDepth, `${root}/${rel}`));
}

async function removeEntry(dir: DirRef, name: string, depth: number, shown: string): Promise<void> {
  const st = await lstat(`${dir.path}/${name}`);
  if (!st.isDirectory()) return unlink(`${dir.path}/${name}`);
  if (depth <= 0) throw new UnsafePathError(`${shown} is nested too deeply to remove`);
  const sub = await openDir(dir.path, [name]);
  try {
    for (const child of await readdir(sub.path))
      await removeEntry(sub, child, depth - 1, `${shown}/${child}`);
  } finally {
    await sub.close();
  }
  await rmdir(`${dir.path}/${name}`);
}

/**
 * Create `rel` and missing parents below root, refusing symlinked components. Created
 * directories get `mode` (0755 by default) as given. With `inheritOwner`, every directory of
 * `rel` (created or not) gets root's owner.
 */
export async function safeMkdirp(
  root: string,
  rel: string,
  opts: CreateOptions = {},
): Promise<void> {
  const comps = splitRelative(rel);
  const mode = opts.mode ?? 0o755;
  const owner = opts.inheritOwner ? await rootOwner(root) : null;
  for (let i = 1; i <= comps.length; i++) {
    const made = await withParent(root, comps.slice(0, i).join('/'), async (dir, name) =>
      mkdir(`${dir.path}/${name}`, { mode }).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
          return false;
        },
      ),
    );
    if (!made && !owner) continue;
    // Opened without following, so the chmod/chown lands on this very directory.
    const dir = await openDir(root, comps.slice(0, i));
    try {
      if (made) await chmod(dir.path, mode);
      if (owner) {
        const st = await stat(dir.path);
        if (st.uid !== owner.uid || st.gid !== owner.gid) {
          await chown(dir.path, owner.uid, owner.gid);
        }
      }
    } finally {
      await dir.close();
    }
  }
  await (await openDir(root, comps)).close();
}
