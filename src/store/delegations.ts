import { stmt, type Db } from './db.js';

/**
 * A delegation's lifecycle: `queued` (waiting for a slot, or for the owner's approval) →
 * `running` (its delegate run is in flight) → `ok` | `failed` (error, refusal, time limit) |
 * `abandoned` (its waiting caller ended first, or the daemon restarted under a waiting caller).
 * Only an open one (`queued`, `running`) ever changes.
 */
export type DelegationStatus = 'queued' | 'running' | 'ok' | 'failed' | 'abandoned';

/** A file of the hand-off folder as the caller sees it: copied (`bytes`), or `skipped` (why). */
export interface HandoffEntry {
  path: string;
  bytes?: number;
  skipped?: string;
}

/** One `delegate` call: who asked whom for what, and how it ended. */
export interface DelegationRecord {
  id: string;
  callerGroup: string;
  /** The caller's run (a delegate run when this is a delegation of a delegate). */
  callerRunId: string | null;
  /** The chat of the caller's conversation: where a `wait: false` result arrives. */
  callerChat: string | null;
  delegateGroup: string;
  /** The delegate's run, once started. */
  runId: string | null;
  /** 1 for a delegation by a turn, 2 for one by a delegate… */
  depth: number;
  prompt: string;
  /** Input files as the caller named them. */
  files: string[];
  wait: boolean;
  timeoutMs: number;
  /** Groups whose budgets the delegate run counts to (the callers, nearest first). */
  billedTo: string[];
  status: DelegationStatus;
  /** The delegate's final reply (its messages, joined). */
  reply: string | null;
  /** Files it left in the hand-off folder, as the caller sees them. */
  handoff: HandoffEntry[];
  error: string | null;
  createdAt: number;
  /** When the guard let it go and its job was queued; null while the owner is asked. */
  launchedAt: number | null;
  endedAt: number | null;
}

interface Row {
  id: string;
  caller_group: string;
  caller_run_id: string | null;
  caller_chat: string | null;
  delegate_group: string;
  run_id: string | null;
  depth: number;
  prompt: string;
  files: string | null;
  wait: number;
  timeout_ms: number;
  billed_to: string;
  status: DelegationStatus;
  reply: string | null;
  handoff: string | null;
  error: string | null;
  created_at: number;
  launched_at: number | null;
  ended_at: number | null;
}

const toRecord = (r: Row): DelegationRecord => ({
  id: r.id,
  callerGroup: r.caller_group,
  callerRunId: r.caller_run_id,
  callerChat: r.caller_chat,
  delegateGroup: r.delegate_group,
  runId: r.run_id,
  depth: r.depth,
  prompt: r.prompt,
  files: r.files ? (JSON.parse(r.files) as string[]) : [],
  wait: r.wait === 1,
  timeoutMs: r.timeout_ms,
  billedTo: JSON.parse(r.billed_to) as string[],
  status: r.status,
  reply: r.reply,
  handoff: r.handoff ? (JSON.parse(r.handoff) as HandoffEntry[]) : [],
  error: r.error,
  createdAt: r.created_at,
  launchedAt: r.launched_at,
  endedAt: r.ended_at,
});

export class DelegationStore {
  constructor(private readonly db: Db) {}

  create(
    d: Omit<
      DelegationRecord,
      'status' | 'reply' | 'handoff' | 'error' | 'endedAt' | 'runId' | 'launchedAt'
    >,
  ): void {
    stmt(
      this.db,
      `INSERT INTO delegations (id, caller_group, caller_run_id, caller_chat, delegate_group, depth,
         prompt, files, wait, timeout_ms, billed_to, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      d.id,
      d.callerGroup,
      d.callerRunId,
      d.callerChat,
      d.delegateGroup,
      d.depth,
      d.prompt,
      d.files.length ? JSON.stringify(d.files) : null,
      d.wait ? 1 : 0,
      d.timeoutMs,
      JSON.stringify(d.billedTo),
      d.createdAt,
    );
  }

  get(id: string): DelegationRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM delegations WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** The delegation a delegate run serves (none for a message or task run). */
  byRun(runId: string): DelegationRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM delegations WHERE run_id = ?').get(runId) as
      Row | undefined;
    return row && toRecord(row);
  }

  /** Delegations a run started, oldest first (the fan-out count, abandoning). */
  byCaller(callerRunId: string): DelegationRecord[] {
    return (
      stmt(
        this.db,
        'SELECT * FROM delegations WHERE caller_run_id = ? ORDER BY created_at, rowid',
      ).all(callerRunId) as Row[]
    ).map(toRecord);
  }

  /** Open delegations (queued or running), oldest first: what a restart must take up. */
  open(): DelegationRecord[] {
    return (
      stmt(
        this.db,
        "SELECT * FROM delegations WHERE status IN ('queued', 'running') ORDER BY created_at, rowid",
      ).all() as Row[]
    ).map(toRecord);
  }

  /** Records that its job was queued (the guard let it go). */
  launched(id: string, now: number): void {
    stmt(this.db, 'UPDATE delegations SET launched_at = ? WHERE id = ?').run(now, id);
  }

  /** queued → running with its run; false when it is no longer queued. */
  start(id: string, runId: string): boolean {
    return (
      stmt(
        this.db,
        "UPDATE delegations SET status = 'running', run_id = ? WHERE id = ? AND status = 'queued'",
      ).run(runId, id).changes > 0
    );
  }

  /** Back to queued (a restart re-runs it); only from running. */
  requeue(id: string): void {
    stmt(
      this.db,
      "UPDATE delegations SET status = 'queued' WHERE id = ? AND status = 'running'",
    ).run(id);
  }

  /** Ends an open delegation, once: false when it had already ended. */
  finish(
    id: string,
    end: {
      status: Exclude<DelegationStatus, 'queued' | 'running'>;
      reply?: string | null;
      handoff?: HandoffEntry[];
      error?: string | null;
    },
    now: number,
  ): boolean {
    return (
      stmt(
        this.db,
        `UPDATE delegations SET status = ?, reply = ?, handoff = ?, error = ?, ended_at = ?
           WHERE id = ? AND status IN ('queued', 'running')`,
      ).run(
        end.status,
        end.reply ?? null,
        end.handoff?.length ? JSON.stringify(end.handoff) : null,
        end.error ?? null,
        now,
        id,
      ).changes > 0
    );
  }
}
