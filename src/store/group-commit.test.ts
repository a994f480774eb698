import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { openDb, type Db } from './db.js';
import { GroupCommit } from './group-commit.js';
import { StorageUnavailableError } from './storage-errors.js';
import { StorageHealth, type StorageChange } from './storage-health.js';

const tempDir = useTempDirs('clawpod-group-commit-');
const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

function setup(opts: { batch?: boolean; lockWaitMs?: number } = {}) {
  const file = join(tempDir(), 'clawpod.db');
  const db = openDb(file);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  // A second connection, as another process would hold one.
  const other = new Database(file);
  other.pragma('busy_timeout = 0');
  open.push(other, db);
  const health = new StorageHealth();
  const changes: StorageChange[] = [];
  health.onChange((c) => changes.push(c));
  const writer = new GroupCommit({
    db,
    health,
    where: { file, dir: tempDir() },
    batch: opts.batch ?? true,
    lockWaitMs: opts.lockWaitMs ?? 5000,
  });
  return { file, db, other, health, changes, writer };
}

const insert = (db: Db, v: string) => () =>
  Number(db.prepare('INSERT INTO t (v) VALUES (?)').run(v).lastInsertRowid);
const committedRows = (other: Database.Database) =>
  other.prepare('SELECT COUNT(*) FROM t').pluck().get() as number;

describe('GroupCommit', () => {
  it('commits the writes of one turn in one transaction and resolves after the commit', async () => {
    const { db, other, writer } = setup();
    const seenByOthers: number[] = [];
    const write = (v: string) =>
      writer.write(() => {
        const id = insert(db, v)();
        seenByOthers.push(committedRows(other));
        return id;
      });
    const ids = await Promise.all([write('a'), write('b'), write('c')]);
    expect(ids).toEqual([1, 2, 3]);
    // Another connection saw none of them while the batch ran: one transaction, one commit.
    expect(seenByOthers).toEqual([0, 0, 0]);
    // Resolved means committed: visible to another connection.
    expect(committedRows(other)).toBe(3);
  });

  it('without batching commits each write on its own', async () => {
    const { db, other, writer } = setup({ batch: false });
    const seenByOthers: number[] = [];
    const write = (v: string) =>
      writer.write(() => {
        insert(db, v)();
        seenByOthers.push(committedRows(other));
      });
    await Promise.all([write('a'), write('b'), write('c')]);
    expect(seenByOthers).toEqual([0, 1, 2]);
  });

  it('a write that throws rejects alone; the others of its batch commit', async () => {
    const { db, other, writer } = setup();
    const results = await Promise.allSettled([
      writer.write(insert(db, 'a')),
      writer.write(() => {
        insert(db, 'half')();
        insert(db, 'a')(); // UNIQUE violation: this write's own rows roll back
      }),
      writer.write(insert(db, 'b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(other.prepare('SELECT v FROM t ORDER BY id').pluck().all()).toEqual(['a', 'b']);
  });

  it('waits out another connection holding the write lock without blocking the event loop', async () => {
    const { db, other, health, changes, writer } = setup();
    other.exec('BEGIN IMMEDIATE');
    const locked = new Promise<void>((resolve) =>
      health.onChange((c) => c.to === 'failing' && resolve()),
    );
    let settled = false;
    const pending = writer.write(insert(db, 'after the lock')).finally(() => (settled = true));
    await locked;
    expect(health.report()).toMatchObject({ ok: false, problem: 'busy' });
    // The event loop turns while the write waits: timers and I/O callbacks run.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    expect(writer.waiting).toBe(1);
    other.exec('COMMIT');
    await expect(pending).resolves.toBe(1);
    expect(health.report()).toEqual({ ok: true, problem: null, lastError: null, since: null });
    expect(changes.map((c) => c.to)).toEqual(['failing', 'ok']);
    expect(committedRows(other)).toBe(1);
  });

  it('refuses a write still locked out after lockWaitMs with a clear, typed error', async () => {
    const { file, db, other, writer } = setup({ lockWaitMs: 50 });
    other.exec('BEGIN IMMEDIATE');
    const err = await writer.write(insert(db, 'x')).catch((e: unknown) => e);
    other.exec('ROLLBACK');
    expect(err).toBeInstanceOf(StorageUnavailableError);
    const e = err as StorageUnavailableError;
    expect(e.problem).toBe('busy');
    expect(e.retryAfterSec).toBeGreaterThan(0);
    expect(e.message).toContain(`the database ${file} is locked by another process`);
    expect(e.message).toContain('nothing was stored');
    expect(committedRows(other)).toBe(0);
    // The next write goes through once the lock is gone.
    await expect(writer.write(insert(db, 'y'))).resolves.toBe(1);
  });

  it('keeps the order of writes queued while it waits for the lock', async () => {
    const { db, other, health, writer } = setup();
    other.exec('BEGIN IMMEDIATE');
    const locked = new Promise<void>((resolve) =>
      health.onChange((c) => c.to === 'failing' && resolve()),
    );
    const first = writer.write(insert(db, 'first'));
    await locked;
    const second = writer.write(insert(db, 'second'));
    other.exec('COMMIT');
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });

  it('close refuses writes still waiting for the lock and stops retrying', async () => {
    const { db, other, health, writer } = setup();
    other.exec('BEGIN IMMEDIATE');
    const locked = new Promise<void>((resolve) =>
      health.onChange((c) => c.to === 'failing' && resolve()),
    );
    const pending = writer.write(insert(db, 'never'));
    await locked;
    expect(health.report().lastError).toMatch(/writes wait for it \(up to 5 s each/);
    writer.close();
    await expect(pending).rejects.toThrow('the store is closed; nothing was stored');
    await expect(writer.write(insert(db, 'late'))).rejects.toThrow('the store is closed');
    other.exec('ROLLBACK');
    expect(committedRows(other)).toBe(0);
  });

  it('a full disk rejects the whole batch at once and marks storage unhealthy', async () => {
    const { db, other, health, writer } = setup();
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const results = await Promise.allSettled([
      writer.write(insert(db, 'a')),
      writer.write(() => {
        throw full;
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reason = (results[0] as PromiseRejectedResult).reason as StorageUnavailableError;
    expect(reason.problem).toBe('disk_full');
    expect(reason.message).toMatch(/^disk full at .*: free space there, then try again/);
    expect(committedRows(other)).toBe(0);
    expect(health.report()).toMatchObject({ ok: false, problem: 'disk_full' });
    await writer.write(insert(db, 'b'));
    expect(health.ok).toBe(true);
  });

  it('writeNow commits at once, with the writes still queued (theirs first): one commit', async () => {
    const { db, other, writer } = setup();
    const queued = [writer.write(insert(db, 'a')), writer.write(insert(db, 'b'))];
    let seenByOthers = -1;
    const id = writer.writeNow(() => {
      seenByOthers = committedRows(other);
      return insert(db, 'now')();
    });
    expect(id).toBe(3);
    expect(seenByOthers).toBe(0); // all three in one transaction
    expect(committedRows(other)).toBe(3); // returned means committed
    expect(writer.waiting).toBe(0);
    expect(await Promise.all(queued)).toEqual([1, 2]);
  });

  it('writeNow throws what its write threw; the queued writes commit anyway', async () => {
    const { db, other, writer } = setup();
    const queued = writer.write(insert(db, 'a'));
    expect(() => writer.writeNow(insert(db, 'a'))).toThrow(/UNIQUE/);
    await expect(queued).resolves.toBe(1);
    expect(committedRows(other)).toBe(1);
  });

  it('writeNow on a locked database throws busy and leaves the queued writes to their retries', async () => {
    const { db, other, writer } = setup();
    other.exec('BEGIN IMMEDIATE');
    const queued = writer.write(insert(db, 'queued'));
    expect(() => writer.writeNow(insert(db, 'now'))).toThrow(
      expect.objectContaining({ code: 'SQLITE_BUSY' }),
    );
    expect(writer.waiting).toBe(1);
    other.exec('COMMIT');
    await expect(queued).resolves.toBe(1);
    expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['queued']);
  });
});
