import { stmt, type Db } from './db.js';

export interface DeadLetter {
  id: number;
  kind: 'run' | 'outbox';
  group: string | null;
  chatJid: string | null;
  ref: string;
  seqStart: number | null;
  seqEnd: number | null;
  error: string;
  createdAt: number;
}

/** Work that failed every retry: kept for the owner to inspect, never silently dropped. */
export class DeadLetterStore {
  constructor(private readonly db: Db) {}

  add(d: Omit<DeadLetter, 'id'>): void {
    stmt(
      this.db,
      `INSERT INTO dead_letters (kind, group_folder, chat_jid, ref, seq_start, seq_end, error, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(d.kind, d.group, d.chatJid, d.ref, d.seqStart, d.seqEnd, d.error, d.createdAt);
  }

  list(limit = 50): DeadLetter[] {
    const rows = stmt(this.db, 'SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?').all(
      limit,
    ) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number,
      kind: r.kind as DeadLetter['kind'],
      group: r.group_folder as string | null,
      chatJid: r.chat_jid as string | null,
      ref: r.ref as string,
      seqStart: r.seq_start as number | null,
      seqEnd: r.seq_end as number | null,
      error: r.error as string,
      createdAt: r.created_at as number,
    }));
  }

  count(): number {
    return stmt(this.db, 'SELECT COUNT(*) FROM dead_letters').pluck().get() as number;
  }
}
