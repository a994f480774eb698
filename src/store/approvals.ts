import { stmt, type Db } from './db.js';

/** An approval's state: waiting for an answer, or decided once (expiry counts as a deny). */
export type ApprovalStatus = 'pending' | 'allowed' | 'denied' | 'expired';
/** The owner's answer: this once, always (writes a rule), or no. */
export type ApprovalDecision = 'once' | 'always' | 'deny';

/** One question to the owner, as stored. `effect` is the action in full (JSON). */
export interface ApprovalRecord {
  id: number;
  group: string;
  runId: string | null;
  kind: string;
  /** What a rule for it would name: `host:port`, a tool pattern, a chat id… */
  subject: string;
  effect: unknown;
  /** The full effect as shown to a human (the text card). */
  card: string;
  /** Why it asks although a rule would allow (the turn read untrusted content). */
  taint: string[];
  dedupeKey: string;
  /** The chat the card was sent to (null: none could be found; API/CLI only). */
  askedIn: string | null;
  /** Sender pairing: the short code the sender was given. */
  code: string | null;
  requestedAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decision: ApprovalDecision | null;
  decidedBy: string | null;
  decidedAt: number | null;
}

interface Row {
  id: number;
  group_folder: string;
  run_id: string | null;
  kind: string;
  subject: string;
  effect: string;
  card: string;
  taint: string | null;
  dedupe_key: string;
  asked_in: string | null;
  code: string | null;
  requested_at: number;
  expires_at: number;
  status: ApprovalStatus;
  decision: ApprovalDecision | null;
  decided_by: string | null;
  decided_at: number | null;
}

const toRecord = (r: Row): ApprovalRecord => ({
  id: r.id,
  group: r.group_folder,
  runId: r.run_id,
  kind: r.kind,
  subject: r.subject,
  effect: JSON.parse(r.effect) as unknown,
  card: r.card,
  taint: r.taint ? (JSON.parse(r.taint) as string[]) : [],
  dedupeKey: r.dedupe_key,
  askedIn: r.asked_in,
  code: r.code,
  requestedAt: r.requested_at,
  expiresAt: r.expires_at,
  status: r.status,
  decision: r.decision,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

export type NewApproval = Omit<
  ApprovalRecord,
  'id' | 'status' | 'decision' | 'decidedBy' | 'decidedAt'
>;

/** The approvals table: questions to the owner that survive restarts. */
export class ApprovalStore {
  constructor(private readonly db: Db) {}

  add(a: NewApproval): number {
    return Number(
      stmt(
        this.db,
        `INSERT INTO approvals (group_folder, run_id, kind, subject, effect, card, taint, dedupe_key, asked_in, code, requested_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        a.group,
        a.runId,
        a.kind,
        a.subject,
        JSON.stringify(a.effect),
        a.card,
        a.taint.length ? JSON.stringify(a.taint) : null,
        a.dedupeKey,
        a.askedIn,
        a.code,
        a.requestedAt,
        a.expiresAt,
      ).lastInsertRowid,
    );
  }

  get(id: number): ApprovalRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** The pending approval asking the same thing (same group, kind and effect), if any. */
  pendingByKey(dedupeKey: string): ApprovalRecord | undefined {
    const row = stmt(
      this.db,
      "SELECT * FROM approvals WHERE dedupe_key = ? AND status = 'pending' ORDER BY id LIMIT 1",
    ).get(dedupeKey) as Row | undefined;
    return row && toRecord(row);
  }

  /** The card (rendered once the id is known) and the chat it goes to. */
  setCard(id: number, card: string, askedIn: string | null): void {
    stmt(this.db, 'UPDATE approvals SET card = ?, asked_in = ? WHERE id = ?').run(
      card,
      askedIn,
      id,
    );
  }

  /**
   * Decides a pending approval: a compare-and-swap on `status = 'pending'`, so of two answers
   * at once exactly one wins. Returns false when it was already decided (or does not exist).
   */
  decide(
    id: number,
    d: { status: Exclude<ApprovalStatus, 'pending'>; decision: ApprovalDecision; by: string },
    now: number,
  ): boolean {
    return (
      stmt(
        this.db,
        `UPDATE approvals SET status = ?, decision = ?, decided_by = ?, decided_at = ?
           WHERE id = ? AND status = 'pending'`,
      ).run(d.status, d.decision, d.by, now, id).changes === 1
    );
  }

  /** Newest first; `status` all: every one. */
  list(
    opts: { status?: ApprovalStatus | 'all'; group?: string; kind?: string; limit?: number } = {},
  ): ApprovalRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.status && opts.status !== 'all') {
      where.push('status = ?');
      args.push(opts.status);
    }
    if (opts.group) {
      where.push('group_folder = ?');
      args.push(opts.group);
    }
    if (opts.kind) {
      where.push('kind = ?');
      args.push(opts.kind);
    }
    const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (stmt(this.db, sql).all(...args, opts.limit ?? 100) as Row[]).map(toRecord);
  }

  /** Every pending approval, soonest expiry first (timers re-armed at start). */
  pending(): ApprovalRecord[] {
    return (
      stmt(
        this.db,
        "SELECT * FROM approvals WHERE status = 'pending' ORDER BY expires_at, id",
      ).all() as Row[]
    ).map(toRecord);
  }
}
