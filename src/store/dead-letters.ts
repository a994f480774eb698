import { stmt, type Db } from './db.js';

/** A dead letter's decision: waiting for the owner, sent back for another try, or dropped. */
export type DeadLetterStatus = 'pending' | 'retried' | 'discarded';

export interface DeadLetter {
  id: number;
  kind: 'run' | 'outbox';
  group: string | null;
  chatId: string | null;
  /** `outbox`: the reply's idempotency key; `run`: the last run's id. */
  ref: string;
  seqStart: number | null;
  seqEnd: number | null;
  error: string;
  createdAt: number;
  status: DeadLetterStatus;
  /** When it was retried or discarded. */
  decidedAt: number | null;
}

interface Row {
  id: number;
  kind: DeadLetter['kind'];
  group_folder: string | null;
  chat_jid: string | null;
  ref: string;
  seq_start: number | null;
  seq_end: number | null;
  error: string;
  created_at: number;
  status: DeadLetterStatus;
  decided_at: number | null;
}

const toDeadLetter = (r: Row): DeadLetter => ({
  id: r.id,
  kind: r.kind,
  group: r.group_folder,
  chatId: r.chat_jid,
  ref: r.ref,
  seqStart: r.seq_start,
  seqEnd: r.seq_end,
  error: r.error,
  createdAt: r.created_at,
  status: r.status,
  decidedAt: r.decided_at,
});

/** Work that failed every retry: kept for the owner to inspect, never silently dropped. */
export class DeadLetterStore {
  constructor(private readonly db: Db) {}

  /** Records a new (pending) dead letter; returns its id. */
  add(d: Omit<DeadLetter, 'id' | 'status' | 'decidedAt'>): number {
    return Number(
      stmt(
        this.db,
        `INSERT INTO dead_letters (kind, group_folder, chat_jid, ref, seq_start, seq_end, error, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(d.kind, d.group, d.chatId, d.ref, d.seqStart, d.seqEnd, d.error, d.createdAt)
        .lastInsertRowid,
    );
  }

  get(id: number): DeadLetter | undefined {
    const row = stmt(this.db, 'SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
    return row && toDeadLetter(row);
  }

  /** Newest first; only those with `status` when given. */
  list(opts: { status?: DeadLetterStatus; limit?: number } = {}): DeadLetter[] {
    const limit = opts.limit ?? 50;
    const rows = (
      opts.status
        ? stmt(this.db, 'SELECT * FROM dead_letters WHERE status = ? ORDER BY id DESC LIMIT ?').all(
            opts.status,
            limit,
          )
        : stmt(this.db, 'SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?').all(limit)
    ) as Row[];
    return rows.map(toDeadLetter);
  }

  count(status?: DeadLetterStatus): number {
    return (
      status
        ? stmt(this.db, 'SELECT COUNT(*) FROM dead_letters WHERE status = ?').pluck().get(status)
        : stmt(this.db, 'SELECT COUNT(*) FROM dead_letters').pluck().get()
    ) as number;
  }

  /**
   * Moves a letter from `from` to `to` (a compare-and-set: two callers cannot both decide it).
   * Returns false when it was not in `from`.
   */
  decide(id: number, from: DeadLetterStatus, to: DeadLetterStatus, now: number | null): boolean {
    return (
      stmt(
        this.db,
        'UPDATE dead_letters SET status = ?, decided_at = ? WHERE id = ? AND status = ?',
      ).run(to, now, id, from).changes > 0
    );
  }
}
