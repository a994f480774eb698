import type { Usage } from '../protocol/runner-protocol.js';
import { stmt, type Db, whereEquals } from './db.js';

export type { Usage } from '../protocol/runner-protocol.js';

/**
 * `running` while the turn is in flight; then `ok` (answered), `error` (this attempt failed;
 * the queue may retry), `dead` (the last attempt failed: dead-lettered), `interrupted` (the
 * daemon stopped during it; its messages stay pending), `skipped` (not run: the owner chose
 * to skip it over its budget; stored as `ok` with the reason in `skipped`).
 */
export type RunStatus = 'running' | 'ok' | 'error' | 'dead' | 'interrupted' | 'skipped';
/** `delegate`: a run another group's agent asked for (see docs/delegation.md). */
export type RunKind = 'message' | 'task' | 'delegate';

/** One turn of work: a batch of a chat's messages, or a task occurrence. */
export interface RunRecord {
  id: string;
  group: string;
  kind: RunKind;
  taskId: string | null;
  chatId: string | null;
  /** Platform id of the message this run answers (replies thread to it). */
  replyTo: string | null;
  /** The agent session that served it. */
  sessionId: string | null;
  /** The run that delegated this one (a `delegate` run's caller). */
  parentRunId: string | null;
  /** Groups whose budgets this run counts to besides its own: its delegating callers. */
  billedTo: string[];
  seqStart: number | null;
  seqEnd: number | null;
  attempt: number;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  error: string | null;
  usage: Usage;
  /** Why its side effects ask the owner: the untrusted content the turn read (empty: none). */
  taint: string[];
  /** Why it was not run (a budget skip); null otherwise. */
  skipped: string | null;
}

interface Row {
  id: string;
  group_folder: string;
  kind: RunKind;
  task_id: string | null;
  chat_jid: string | null;
  reply_to: string | null;
  session_id: string | null;
  parent_run_id: string | null;
  seq_start: number | null;
  seq_end: number | null;
  attempt: number;
  status: RunStatus;
  started_at: number;
  ended_at: number | null;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  taint: string | null;
  skipped: string | null;
  billed_to: string | null;
}

const toRun = (r: Row): RunRecord => ({
  id: r.id,
  group: r.group_folder,
  kind: r.kind,
  taskId: r.task_id,
  chatId: r.chat_jid,
  replyTo: r.reply_to,
  sessionId: r.session_id,
  parentRunId: r.parent_run_id,
  billedTo: r.billed_to ? (JSON.parse(r.billed_to) as string[]) : [],
  seqStart: r.seq_start,
  seqEnd: r.seq_end,
  attempt: r.attempt,
  status: r.skipped ? 'skipped' : r.status,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  error: r.error,
  usage: {
    inputTokens: r.input_tokens ?? undefined,
    outputTokens: r.output_tokens ?? undefined,
    cacheReadTokens: r.cache_read_tokens ?? undefined,
    cacheWriteTokens: r.cache_write_tokens ?? undefined,
    costUsd: r.cost_usd ?? undefined,
  },
  taint: r.taint ? (JSON.parse(r.taint) as string[]) : [],
  skipped: r.skipped,
});

/** One row per agent invocation: what it consumed, how it ended, what it cost. */
export class RunStore {
  constructor(private readonly db: Db) {}

  start(run: {
    id: string;
    group: string;
    kind: RunKind;
    taskId?: string | null;
    chatId: string | null;
    replyTo?: string | null;
    parentRunId?: string | null;
    billedTo?: readonly string[];
    seqStart: number | null;
    seqEnd: number | null;
    attempt: number;
    now: number;
  }): void {
    stmt(
      this.db,
      `INSERT INTO runs (id, group_folder, kind, task_id, chat_jid, reply_to, parent_run_id, billed_to, seq_start, seq_end, attempt, status, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
    ).run(
      run.id,
      run.group,
      run.kind,
      run.taskId ?? null,
      run.chatId,
      run.replyTo ?? null,
      run.parentRunId ?? null,
      run.billedTo?.length ? JSON.stringify(run.billedTo) : null,
      run.seqStart,
      run.seqEnd,
      run.attempt,
      run.now,
    );
  }

  /** Records the agent session that serves the run. */
  setSession(id: string, sessionId: string): void {
    stmt(this.db, 'UPDATE runs SET session_id = ? WHERE id = ?').run(sessionId, id);
  }

  /** Adds a turn's usage to the run's totals. */
  addUsage(id: string, u: Usage): void {
    stmt(
      this.db,
      `UPDATE runs SET input_tokens = COALESCE(input_tokens, 0) + ?, output_tokens = COALESCE(output_tokens, 0) + ?,
         cache_read_tokens = COALESCE(cache_read_tokens, 0) + ?, cache_write_tokens = COALESCE(cache_write_tokens, 0) + ?,
         cost_usd = CASE WHEN ? IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + ? END WHERE id = ?`,
    ).run(
      u.inputTokens ?? 0,
      u.outputTokens ?? 0,
      u.cacheReadTokens ?? 0,
      u.cacheWriteTokens ?? 0,
      u.costUsd ?? null,
      u.costUsd ?? 0,
      id,
    );
  }

  /** Records what untrusted content the run read (the whole list, replacing the last). */
  setTaint(id: string, reasons: readonly string[]): void {
    stmt(this.db, 'UPDATE runs SET taint = ? WHERE id = ?').run(
      reasons.length ? JSON.stringify(reasons) : null,
      id,
    );
  }

  /** Ends a run as not run (the owner skipped it): `ok` in the table, with the reason. */
  skip(id: string, reason: string, now: number): void {
    stmt(
      this.db,
      "UPDATE runs SET status = 'ok', skipped = ?, error = NULL, ended_at = ? WHERE id = ?",
    ).run(reason, now, id);
  }

  finish(
    id: string,
    status: Exclude<RunStatus, 'running' | 'skipped'>,
    error: string | null,
    now: number,
  ): void {
    stmt(this.db, 'UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?').run(
      status,
      error,
      now,
      id,
    );
  }

  /** Marks runs left `running` by a stop or crash as interrupted; their batches are still pending. */
  interruptStale(now: number): number {
    return stmt(
      this.db,
      "UPDATE runs SET status = 'interrupted', ended_at = ?, error = 'daemon stopped during the run' WHERE status = 'running'",
    ).run(now).changes;
  }

  get(id: string): RunRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return row && toRun(row);
  }

  list(opts: { limit?: number; group?: string; status?: RunStatus } = {}): RunRecord[] {
    const where = whereEquals({ group_folder: opts.group, status: opts.status });
    const sql = `SELECT * FROM runs ${where.sql} ORDER BY started_at DESC, rowid DESC LIMIT ?`;
    return (stmt(this.db, sql).all(...where.args, opts.limit ?? 50) as Row[]).map(toRun);
  }

  /** The runs a run delegated (its children), oldest first. */
  children(parentRunId: string): RunRecord[] {
    return (
      stmt(this.db, 'SELECT * FROM runs WHERE parent_run_id = ? ORDER BY started_at, rowid').all(
        parentRunId,
      ) as Row[]
    ).map(toRun);
  }

  countByStatus(): Record<string, number> {
    const rows = stmt(
      this.db,
      'SELECT status, COUNT(*) AS n FROM runs GROUP BY status',
    ).all() as Array<{
      status: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
