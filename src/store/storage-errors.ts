/**
 * What can go wrong under the store that is not a bug: another process holds the write lock,
 * the disk is full, or the file system fails. Each becomes a {@link StorageUnavailableError}
 * whose message tells the user what to do.
 */
export type StorageProblem = 'busy' | 'disk_full' | 'io';

/** The storage problem an error stands for (SQLite or file system), or undefined for others. */
export function storageProblemOf(err: unknown): StorageProblem | undefined {
  if (err instanceof StorageUnavailableError) return err.problem;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'EIO' ||
    code === 'EROFS'
  )
    return 'io';
  return undefined;
}

/** True for SQLite's own storage errors (not a file system error from other code). */
export function isSqliteStorageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') && !!storageProblemOf(err);
}

/**
 * The store cannot take a write right now. `retryAfterSec` is what an HTTP client is told
 * (`Retry-After`); nothing of the refused write was kept.
 */
export class StorageUnavailableError extends Error {
  constructor(
    readonly problem: StorageProblem,
    message: string,
    readonly retryAfterSec: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** Where the store lives, for messages. */
export interface StorageLocation {
  /** The database file. */
  file: string;
  /** The data dir (the disk that fills up). */
  dir: string;
}

/** The user-facing error for `err` (a storage problem), naming the place and the fix. */
export function storageError(
  err: unknown,
  where: StorageLocation,
  /** `waitedMs`: how long the refused write waited; `waiting`: writes still wait (no refusal yet). */
  opts: { waitedMs?: number; waiting?: { upToMs: number } } = {},
): StorageUnavailableError {
  if (err instanceof StorageUnavailableError) return err;
  const problem = storageProblemOf(err) ?? 'io';
  const detail = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  switch (problem) {
    case 'busy':
      if (opts.waiting)
        return new StorageUnavailableError(
          'busy',
          `the database ${where.file} is locked by another process; writes wait for it ` +
            `(up to ${formatMs(opts.waiting.upToMs)} each, then they are refused)`,
          5,
          { cause: err },
        );
      return new StorageUnavailableError(
        'busy',
        `the database ${where.file} is locked by another process` +
          (opts.waitedMs !== undefined ? ` (waited ${formatMs(opts.waitedMs)})` : '') +
          '; nothing was stored. Finish or stop the other program (a sqlite3 shell, a backup, ' +
          'a long clawpod command), then try again',
        5,
        { cause: err },
      );
    case 'disk_full':
      return new StorageUnavailableError(
        'disk_full',
        `disk full at ${where.dir}: free space there, then try again ` +
          '(everything accepted before is kept; clawpod resumes by itself)',
        30,
        { cause: err },
      );
    case 'io':
      return new StorageUnavailableError(
        'io',
        `storage error at ${where.file}: ${typeof code === 'string' ? `${code}: ` : ''}${detail}`,
        30,
        { cause: err },
      );
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
