import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import {
  storageError,
  storageProblemOf,
  type StorageLocation,
  StorageUnavailableError,
} from './storage-errors.js';
import type { HealthTimers, StorageHealth } from './storage-health.js';

export interface GroupCommitOptions {
  db: Db;
  health: StorageHealth;
  where: StorageLocation;
  /** true: writes waiting together share one transaction (one fsync); false: one each. */
  batch: boolean;
  /** How long a write keeps retrying a locked database before it is refused. */
  lockWaitMs: number;
  now?: () => number;
  timers?: HealthTimers;
}

interface Pending {
  fn: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  queuedAt: number;
}

/** What one write of a committed batch came to: its value, or what it threw (rolled back alone). */
type CommitResult = { ok: true; value: unknown } | { ok: false; err: unknown };

/** The writer's lifecycle: idle, a flush due on the next turn, waiting out a lock, or closed. */
type WriterState =
  | { name: 'idle' }
  | { name: 'scheduled' }
  | { name: 'lock-wait'; timer: unknown; attempt: number }
  | { name: 'closed' };

const realTimers: HealthTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** First retry after 10 ms, doubling up to 500 ms between tries. */
const retryDelay = (attempt: number) => Math.min(10 * 2 ** attempt, 500);

/**
 * Durable writes for the intake path. `write(fn)` resolves only after `fn`'s changes are
 * committed — with `synchronous = FULL`, fsynced — so a caller may acknowledge after it.
 *
 * Group commit: the writes queued during one event-loop turn run in one transaction, each in
 * its own savepoint (one throwing rejects only itself), so concurrent posters share one fsync.
 *
 * A locked database (another process holds the write lock) is retried on timers, never by
 * blocking the event loop longer than the connection's short busy timeout; a write still
 * locked out after `lockWaitMs` is refused with a {@link StorageUnavailableError} (`busy`). A
 * full disk or an I/O error refuses the batch at once. Every outcome is reported to `health`.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private state: WriterState = { name: 'idle' };
  private readonly now: () => number;
  private readonly timers: HealthTimers;

  /** Runs its argument in a transaction (a savepoint when nested); built once, not per write. */
  private readonly inTx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(private readonly opts: GroupCommitOptions) {
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.inTx = opts.db.transaction((fn: () => unknown) => fn());
  }

  /** Runs `fn` (synchronous SQLite work) in a committed transaction; resolves with its result. */
  write<T>(fn: () => T): Promise<T> {
    if (this.state.name === 'closed')
      return Promise.reject(new Error('the store is closed; nothing was stored'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        fn,
        resolve: resolve as (v: unknown) => void,
        reject,
        queuedAt: this.now(),
      });
      if (this.state.name === 'idle') {
        this.state = { name: 'scheduled' };
        setImmediate(() => this.flush(0));
      }
    });
  }

  /**
   * Runs `fn` now, in one transaction with the writes still queued (theirs first, in order),
   * and returns its result once committed: a synchronous writer (the scheduler's claims) shares
   * its fsync with them instead of adding one. Throws what `fn` threw (the queued writes commit
   * anyway) or the storage error; a locked database leaves the queued writes queued, retried as
   * before.
   */
  writeNow<T>(fn: () => T): T {
    if (this.state.name === 'closed') throw new Error('the store is closed; nothing was stored');
    const queued = this.opts.batch ? this.queue.length : 0;
    const own: Pending = { fn, resolve: () => {}, reject: () => {}, queuedAt: this.now() };
    let results: CommitResult[];
    try {
      results = this.commit([...this.queue.slice(0, queued), own]);
    } catch (err) {
      const problem = storageProblemOf(err);
      if (problem === 'busy' || !problem) throw err;
      throw this.refuse(queued, err);
    }
    this.settle(queued, results);
    const mine = results[queued]!;
    if (!mine.ok) throw mine.err;
    return mine.value as T;
  }

  /**
   * Resolves once every write queued before the call has been committed or refused (never
   * rejects): a reader that must see them waits on it.
   */
  settled(): Promise<void> {
    if (!this.queue.length) return Promise.resolve();
    return this.write(() => undefined).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Refuses what still waits (the store is closing) and stops the retry timer. */
  close(): void {
    if (this.state.name === 'lock-wait') this.timers.clearTimeout(this.state.timer);
    this.state = { name: 'closed' };
    const err = new Error('the store is closed; nothing was stored');
    for (const p of this.queue.splice(0)) p.reject(err);
  }

  /** Writes waiting (queued or waiting out a lock). */
  get waiting(): number {
    return this.queue.length;
  }

  private flush(attempt: number): void {
    if (this.state.name === 'closed') return;
    while (this.queue.length) {
      const batch = this.queue.slice(0, this.opts.batch ? this.queue.length : 1);
      let results: CommitResult[];
      try {
        results = this.commit(batch);
      } catch (err) {
        if (storageProblemOf(err) === 'busy') return this.lockedOut(err, attempt);
        this.refuse(batch.length, err);
        continue;
      }
      this.settle(batch.length, results);
      attempt = 0;
    }
    this.state = { name: 'idle' };
  }

  /** The first `n` queued writes were committed: each gets its own result. */
  private settle(n: number, results: CommitResult[]): void {
    this.opts.health.succeeded();
    this.take(n).forEach((p, i) => {
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.err);
    });
  }

  /** The commit of the first `n` queued writes failed (not on a lock): each is refused with why. */
  private refuse(n: number, err: unknown): Error {
    const failure = storageProblemOf(err) ? storageError(err, this.opts.where) : (err as Error);
    if (failure instanceof StorageUnavailableError) this.opts.health.failed(failure);
    this.take(n).forEach((p) => p.reject(failure));
    return failure;
  }

  /** One transaction over `batch`; each write in its own savepoint. Throws storage errors. */
  private commit(batch: Pending[]): CommitResult[] {
    const results: CommitResult[] = [];
    this.inTx.immediate(() => {
      for (const p of batch) {
        try {
          results.push({ ok: true, value: this.inTx(p.fn) });
        } catch (err) {
          // The whole transaction is unusable after a storage error: give up the batch.
          if (storageProblemOf(err)) throw err;
          results.push({ ok: false, err });
        }
      }
    });
    return results;
  }

  private take(n: number): Pending[] {
    return this.queue.splice(0, n);
  }

  /** The lock is held elsewhere: refuse writes that waited too long, retry the rest later. */
  private lockedOut(err: unknown, attempt: number): void {
    const now = this.now();
    const expired = this.queue.filter((p) => now - p.queuedAt >= this.opts.lockWaitMs);
    if (expired.length) {
      const failure = storageError(err, this.opts.where, { waitedMs: now - expired[0]!.queuedAt });
      this.opts.health.failed(failure);
      this.queue = this.queue.filter((p) => !expired.includes(p));
      for (const p of expired) p.reject(failure);
    } else {
      this.opts.health.failed(
        storageError(err, this.opts.where, { waiting: { upToMs: this.opts.lockWaitMs } }),
      );
    }
    if (!this.queue.length) {
      this.state = { name: 'idle' };
      return;
    }
    const oldest = this.queue[0]!.queuedAt;
    const delay = Math.max(0, Math.min(retryDelay(attempt), oldest + this.opts.lockWaitMs - now));
    const timer = this.timers.setTimeout(() => this.flush(attempt + 1), delay);
    this.state = { name: 'lock-wait', timer, attempt };
  }
}
