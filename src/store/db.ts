import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

/** Opens (and migrates) the SQLite store: WAL, foreign keys, busy timeout for a second process. */
export function openDb(file: string, opts: { migrateTo?: number } = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
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
