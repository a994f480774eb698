import { stmt, type Db } from './db.js';

/** A file the agent sends along with a reply (a host path inside the group's folder). */
export interface OutboundFile {
  path: string;
  name: string;
}

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'dead';

export interface OutboxItem {
  id: number;
  idemKey: string;
  chatId: string;
  text: string;
  /** Platform id of the message this reply answers (email threads on it). */
  replyTo: string | null;
  /** Quote it / reply in its thread (the group asked for it). */
  thread: boolean;
  runId: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  platformId: string | null;
  error: string | null;
  createdAt: number;
  /** Files to upload with this piece (host paths inside a group folder). */
  files: OutboundFile[];
}

interface Row {
  id: number;
  idem_key: string;
  chat_jid: string;
  text: string;
  reply_to: string | null;
  thread: number;
  run_id: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  platform_id: string | null;
  error: string | null;
  created_at: number;
  files: string | null;
}

const toItem = (r: Row): OutboxItem => ({
  id: r.id,
  idemKey: r.idem_key,
  chatId: r.chat_jid,
  text: r.text,
  replyTo: r.reply_to,
  thread: r.thread === 1,
  runId: r.run_id,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  platformId: r.platform_id,
  error: r.error,
  createdAt: r.created_at,
  files: r.files ? (JSON.parse(r.files) as OutboundFile[]) : [],
});

/**
 * Replies waiting to be delivered. The idempotency key is unique: enqueueing the same logical
 * reply twice stores it once, so a retried run never sends twice.
 */
export class OutboxStore {
  constructor(private readonly db: Db) {}

  /** Inserts unless the key exists. Returns true when this call added the row. */
  enqueue(
    item: {
      idemKey: string;
      chatId: string;
      text: string;
      replyTo?: string | null;
      /** Quote or thread on `replyTo` (the group's threadReplies). */
      thread?: boolean;
      runId?: string | null;
      files?: OutboundFile[];
    },
    now: number,
  ): boolean {
    return (
      stmt(
        this.db,
        `INSERT INTO outbox (idem_key, chat_jid, text, reply_to, thread, run_id, status, next_attempt_at, created_at, files)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT(idem_key) DO NOTHING`,
      ).run(
        item.idemKey,
        item.chatId,
        item.text,
        item.replyTo ?? null,
        item.thread ? 1 : 0,
        item.runId ?? null,
        now,
        now,
        item.files?.length ? JSON.stringify(item.files) : null,
      ).changes > 0
    );
  }

  /** Every undelivered item (pending or cut mid-send), oldest first. */
  undelivered(limit: number): OutboxItem[] {
    return (
      stmt(
        this.db,
        "SELECT * FROM outbox WHERE status IN ('pending', 'sending') ORDER BY id LIMIT ?",
      ).all(limit) as Row[]
    ).map(toItem);
  }

  /** Records that a send is being attempted (a crash leaves it `sending`, checked on restart). */
  markSending(id: number): void {
    stmt(this.db, "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?").run(
      id,
    );
  }

  markSent(id: number, platformId: string, now: number): void {
    stmt(
      this.db,
      "UPDATE outbox SET status = 'sent', platform_id = ?, sent_at = ?, error = NULL WHERE id = ?",
    ).run(platformId, now, id);
  }

  markRetry(id: number, error: string, nextAttemptAt: number): void {
    stmt(
      this.db,
      "UPDATE outbox SET status = 'pending', error = ?, next_attempt_at = ? WHERE id = ?",
    ).run(error, nextAttemptAt, id);
  }

  markDead(id: number, error: string): void {
    stmt(this.db, "UPDATE outbox SET status = 'dead', error = ? WHERE id = ?").run(error, id);
  }

  /**
   * Puts a dead row back in line with fresh attempts (same idempotency key, so it is still
   * delivered at most once). Returns false when the row is not dead.
   */
  revive(idemKey: string, now: number): boolean {
    return (
      stmt(
        this.db,
        `UPDATE outbox SET status = 'pending', attempts = 0, error = NULL, next_attempt_at = ?
           WHERE idem_key = ? AND status = 'dead'`,
      ).run(now, idemKey).changes > 0
    );
  }

  get(id: number): OutboxItem | undefined {
    const row = stmt(this.db, 'SELECT * FROM outbox WHERE id = ?').get(id) as Row | undefined;
    return row && toItem(row);
  }

  byKey(idemKey: string): OutboxItem | undefined {
    const row = stmt(this.db, 'SELECT * FROM outbox WHERE idem_key = ?').get(idemKey) as
      Row | undefined;
    return row && toItem(row);
  }

  /** A run's replies by delivery status (how far its answer got). */
  countForRun(runId: string): Record<OutboxStatus, number> {
    const rows = stmt(
      this.db,
      'SELECT status, COUNT(*) AS n FROM outbox WHERE run_id = ? GROUP BY status',
    ).all(runId) as Array<{ status: OutboxStatus; n: number }>;
    const out: Record<OutboxStatus, number> = { pending: 0, sending: 0, sent: 0, dead: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  countByStatus(): Record<OutboxStatus, number> {
    const rows = stmt(
      this.db,
      'SELECT status, COUNT(*) AS n FROM outbox GROUP BY status',
    ).all() as Array<{
      status: OutboxStatus;
      n: number;
    }>;
    const out: Record<OutboxStatus, number> = { pending: 0, sending: 0, sent: 0, dead: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
