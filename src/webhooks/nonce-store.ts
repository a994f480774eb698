import { stmt, type Db } from '../store/db.js';

/**
 * Replay protection for webhook calls: each (hook, nonce) is kept in SQLite for twice the
 * freshness window, so a replay is refused even across a daemon restart; older rows are
 * pruned on the next call (their timestamps are stale by then anyway).
 */
export class NonceStore {
  constructor(
    private readonly db: Db,
    private readonly windowMs: number,
  ) {}

  /** Records the nonce: `ok` when new, `replay` when already seen inside the window. */
  remember(hook: string, nonce: string, now: number): 'ok' | 'replay' {
    stmt(this.db, 'DELETE FROM webhook_nonces WHERE seen_at < ?').run(now - this.windowMs * 2);
    const res = stmt(
      this.db,
      'INSERT OR IGNORE INTO webhook_nonces (hook, nonce, seen_at) VALUES (?, ?, ?)',
    ).run(hook, nonce, now);
    return res.changes === 1 ? 'ok' : 'replay';
  }

  /** Forgets a nonce (a call that was authenticated but could not be carried out). */
  forget(hook: string, nonce: string): void {
    stmt(this.db, 'DELETE FROM webhook_nonces WHERE hook = ? AND nonce = ?').run(hook, nonce);
  }
}
