import { existsSync, mkdirSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Config } from '../config/load.js';
import { Store } from '../store/store.js';

/**
 * Opens the installation's SQLite store directly (WAL lets this run beside the daemon). With
 * `create: false` a missing database is not created: an empty in-memory store stands in, so
 * read-only commands leave a fresh data dir untouched.
 */
export function openLocalStore(config: Config, opts: { create: boolean }): Store {
  if (!opts.create && !existsSync(config.paths.db)) return Store.open(':memory:');
  mkdirSync(config.paths.home, { recursive: true, mode: 0o700 });
  // A command may wait for the daemon's write lock longer than the daemon waits for anyone.
  return Store.open(config.paths.db, {
    synchronous: config.file.storage.synchronous,
    busyTimeoutMs: 5000,
  });
}

/** Runs `fn` with a store from {@link openLocalStore} and closes it afterwards. */
export async function withLocalStore<T>(
  config: Config,
  opts: { create: boolean },
  fn: (store: Store) => T | Promise<T>,
): Promise<T> {
  const store = openLocalStore(config, opts);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** A commander option parser for a whole number ≥ `min` (a bad value is a usage error). */
export function intOption(min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return n;
  };
}

/** A commander option parser for a positive number of seconds. */
export function secondsOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}
