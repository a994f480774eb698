import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

/** How a connection is opened. */
export interface DbOptions {
  /** Migrate only up to this version (tests). */
  migrateTo?: number;
  /**
   * `full` (default): each commit is fsynced (WAL synced) before it returns, so whatever was
   * acknowledged survives power loss. `normal`: the WAL is synced only at checkpoints; a power
   * loss may lose the last commits (a process crash does not).
   */
  synchronous?: 'full' | 'normal';
  /**
   * How long a statement waits for another connection's write lock. better-sqlite3 is
   * synchronous, so the whole process sleeps meanwhile: the daemon keeps this short and retries
   * off the event loop (group-commit.ts); a CLI command may wait longer. Default 100 ms.
   */
  busyTimeoutMs?: number;
}

/** Opens (and migrates) the SQLite store: WAL, foreign keys, fsync per commit by default. */
export function openDb(file: string, opts: DbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 100))}`);
  db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  // macOS fsync does not flush the drive's cache; F_FULLFSYNC does.
  if (process.platform === 'darwin') db.pragma('fullfsync = ON');
  try {
    migrate(db, opts.migrateTo);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement for `sql`, prepared once per connection (hot paths run the same few
 * statements thousands of times).
 */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}

/** `WHERE a = ? AND b = ?` for the filters that are set (undefined ones are left out). */
export function whereEquals(filters: Record<string, string | number | undefined>): {
  sql: string;
  args: Array<string | number>;
} {
  const set = Object.entries(filters).filter(
    (e): e is [string, string | number] => e[1] !== undefined,
  );
  return {
    sql: set.length ? `WHERE ${set.map(([col]) => `${col} = ?`).join(' AND ')}` : '',
    args: set.map(([, v]) => v),
  };
}
