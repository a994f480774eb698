import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  safeLstat,
  safeReadDirStat,
  safeReadLink,
  safeRemoveTree,
  safeRename,
  safeUnlink,
  safeWriteFile,
} from '../sandbox/safe-fs.js';
import { UnsafePathError } from '../sandbox/errors.js';
import type { OwnerNotices } from './owner-notices.js';

/** What `clawpod status` shows of one group's IPC folder. */
export interface GroupIpcCounts {
  /** Entries in errors/ at the last count (kept at or under the cap). */
  errorsFiles: number;
  /** Broken queue dirs and planted answer slots moved aside since the daemon started. */
  quarantined: number;
  /** Oldest errors/ entries removed by the cap since the daemon started. */
  rotated: number;
}

export interface ErrorsDirOptions {
  ipcRoot: string;
  /** Most entries kept in a group's errors/ (each rejected file has a `.error.json` beside it). */
  cap: number;
  log: Logger;
  notices: OwnerNotices;
  now: () => number;
  /** Recreates the group's queue dirs when errors/ itself is found broken (then one retry). */
  repair?: (folder: string) => void;
}

/** errors/ (or the folder above) is missing, a symlink or not a directory. */
const brokenDir = (err: unknown) =>
  err instanceof UnsafePathError || (err as NodeJS.ErrnoException).code === 'ENOENT';

/** A temp file of our own reason writer, being renamed into place: not to be rotated out. */
const isFreshTemp = (name: string, mtimeMs: number, now: number) =>
  name.startsWith('.') && name.endsWith('.tmp') && Math.abs(now - mtimeMs) < 60_000;

/**
 * A group's `errors/`: where bad files go, each with `<name>.error.json` saying why, capped at
 * `cap` entries (the oldest go first). Every touch uses the no-follow walk: errors/ belongs to
 * the sandbox as much as the queues do.
 */
export class ErrorsDir {
  private readonly counts = new Map<string, GroupIpcCounts>();

  constructor(private readonly opts: ErrorsDirOptions) {}

  /** This group's counts (zeros before its first count). */
  countsOf(folder: string): GroupIpcCounts {
    let c = this.counts.get(folder);
    if (!c) this.counts.set(folder, (c = { errorsFiles: 0, quarantined: 0, rotated: 0 }));
    return c;
  }

  /** Every group counted so far. */
  all(): Array<[string, GroupIpcCounts]> {
    return [...this.counts.entries()];
  }

  /**
   * Moves `fromRel` (relative to the group's IPC folder) to `errors/<name>` and writes
   * `errors/<name>.error.json` with `reason`. A symlink is not moved: its target is noted in
   * the reason and the link removed. What cannot be moved (errors/ holds a directory of that
   * name) is removed. Returns false when `fromRel` was gone already (nothing to report).
   */
  async moveIn(
    folder: string,
    fromRel: string,
    name: string,
    reason: string,
    opts: { quarantine?: boolean } = {},
  ): Promise<boolean> {
    const dir = join(this.opts.ipcRoot, folder);
    let found;
    try {
      found = await safeLstat(dir, fromRel);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    let why = reason;
    if (found.type === 'symlink') {
      const target = await safeReadLink(dir, fromRel).catch(() => '?');
      why += ` (a symlink to ${JSON.stringify(target)}; the link was removed, never followed)`;
      await safeUnlink(dir, fromRel);
    } else {
      const move = () => safeRename(dir, fromRel, `errors/${name}`);
      let failed: unknown;
      try {
        await move();
      } catch (err) {
        failed = err;
        if (brokenDir(err) && this.opts.repair) {
          this.opts.repair(folder);
          failed = await move().then(
            () => undefined,
            (e: unknown) => e,
          );
        }
      }
      if (failed) {
        why += ` (it could not be kept in errors/: ${(failed as Error).message}; removed)`;
        await safeRemoveTree(dir, fromRel).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        });
      }
    }
    const c = this.countsOf(folder);
    c.errorsFiles += found.type === 'symlink' ? 1 : 2;
    if (opts.quarantine) c.quarantined++;
    this.opts.log.warn({ group: folder, file: fromRel, reason: why }, 'IPC file moved to errors/');
    await safeWriteFile(
      dir,
      `errors/${name}.error.json`,
      JSON.stringify({ file: fromRel, reason: why, at: new Date(this.opts.now()).toISOString() }) +
        '\n',
      { inheritOwner: true }, // the group's IPC dir belongs to its sandbox uid
    ).catch((err: unknown) =>
      this.opts.log.warn(
        { group: folder, file: fromRel, err: (err as Error).message },
        'could not write the reason file in errors/',
      ),
    );
    return true;
  }

  /**
   * Counts errors/ and removes the oldest entries beyond the cap (by modification time; a
   * directory with all it holds). Tells the owner once a day per group when it had to.
   */
  async rotate(folder: string): Promise<void> {
    const dir = join(this.opts.ipcRoot, folder);
    const now = this.opts.now();
    const entries = (await safeReadDirStat(dir, 'errors')).filter(
      (e) => !isFreshTemp(e.name, e.mtimeMs, now),
    );
    const c = this.countsOf(folder);
    const excess = entries.length - this.opts.cap;
    let removed = 0;
    if (excess > 0) {
      entries.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
      for (const e of entries.slice(0, excess)) {
        try {
          await safeRemoveTree(dir, `errors/${e.name}`);
          removed++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') removed++;
          else
            this.opts.log.warn(
              { group: folder, file: `errors/${e.name}`, err: (err as Error).message },
              'could not remove an old errors/ entry',
            );
        }
      }
      c.rotated += removed;
      this.opts.log.warn(
        { group: folder, removed, cap: this.opts.cap },
        'IPC errors/ over its cap: oldest entries removed',
      );
      this.opts.notices.tell(
        folder,
        'errors-capped',
        `⚠️ Group "${folder}" keeps writing files its IPC queue cannot take: its errors/ folder reached ${this.opts.cap} entries, so the oldest are removed as new ones come. The reasons are in ipc/${folder}/errors/*.error.json; look at what the group's agent runs.`,
      );
    }
    c.errorsFiles = entries.length - removed;
  }
}
