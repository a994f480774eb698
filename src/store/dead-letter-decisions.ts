import { stmt, type Db } from './db.js';

/**
 * The owner's decisions on dead letters, minimal form: a decided letter is removed (it was
 * answered: retried or discarded), and a dead reply can go back in line under its own
 * idempotency key (so it is delivered once, however often it is retried).
 */

/** Removes a dead letter; false when there is none with that id. */
export function removeDeadLetter(db: Db, id: number): boolean {
  return stmt(db, 'DELETE FROM dead_letters WHERE id = ?').run(id).changes > 0;
}

/** Puts a dead reply back in line; false when no dead reply has that key. */
export function reviveOutbox(db: Db, idemKey: string, now: number): boolean {
  return (
    stmt(
      db,
      `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, error = NULL
         WHERE idem_key = ? AND status = 'dead'`,
    ).run(now, idemKey).changes > 0
  );
}
