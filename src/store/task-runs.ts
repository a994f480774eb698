import type Database from 'better-sqlite3';
import { stmt, type Db } from './db.js';
import type { Usage } from './runs.js';

/**
 * pending (claimed, queued) → running → ok | error | timeout | skipped;
 * missed is written directly (an occurrence that was not run, or an interrupted one not re-run).
 */
export type TaskRunStatus =
  'pending' | 'running' | 'ok' | 'error' | 'timeout' | 'missed' | 'skipped';
export type TaskRunFinal = Exclude<TaskRunStatus, 'pending' | 'running' | 'missed'>;
/** schedule: on time; catch-up: run late by the missed policy; manual: run-now. */
export type TaskRunTrigger = 'schedule' | 'catch-up' | 'manual';

/** One occurrence of a task: run, missed or skipped. Times are UTC epoch milliseconds. */
export interface TaskRunRecord {
  id: number;
  taskId: string;
  scheduledFor: number;
  trigger: TaskRunTrigger;
  status: TaskRunStatus;
  /** The `runs` row of the latest attempt. */
  runId: string | null;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The first reply, truncated (see RESULT_SUMMARY_CHARS). */
  result: string | null;
  error: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  createdAt: number;
}

/** How much of the first reply a task run keeps as its result summary. */
export const RESULT_SUMMARY_CHARS = 500;

interface Row {
  id: number;
  task_id: string;
  scheduled_for: number;
  trigger: TaskRunTrigger;
  status: TaskRunStatus;
  run_id: string | null;
  attempts: number;
  started_at: number | null;
  ended_at: number | null;
  result: string | null;
  error: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_usd: number | null;
  created_at: number;
}

const toTaskRun = (r: Row): TaskRunRecord => ({
  id: r.id,
  taskId: r.task_id,
  scheduledFor: r.scheduled_for,
  trigger: r.trigger,
  status: r.status,
  runId: r.run_id,
  attempts: r.attempts,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  result: r.result,
  error: r.error,
  inputTokens: r.input_tokens,
  outputTokens: r.output_tokens,
  costUsd: r.cost_usd,
  createdAt: r.created_at,
});

/** The `task_runs` table: every occurrence of every task leaves exactly one row. */
export class TaskRunStore {
  private readonly insertMissedStmt: Database.Statement;
  /** A prepared statement, compiled once per connection (see `stmt` in db.ts). */
  private stmt(sql: string): Database.Statement {
    return stmt(this.db, sql);
  }

  constructor(private readonly db: Db) {
    this.insertMissedStmt = db.prepare(
      `INSERT OR IGNORE INTO task_runs (task_id, scheduled_for, trigger, status, error, created_at)
       VALUES (?, ?, 'schedule', 'missed', ?, ?)`,
    );
  }

  /** Records occurrences that were not run. Existing rows for the same times are kept. */
  insertMissed(taskId: string, times: number[], reason: string, now: number): number {
    let n = 0;
    for (const t of times) n += this.insertMissedStmt.run(taskId, t, reason, now).changes;
    return n;
  }

  /**
   * A claimed occurrence about to be queued. An existing row for the same occurrence (an
   * interrupted run being re-run) is reset to pending, keeping its attempt count.
   */
  upsertPending(
    taskId: string,
    scheduledFor: number,
    trigger: TaskRunTrigger,
    now: number,
  ): number {
    return this.stmt(
      `INSERT INTO task_runs (task_id, scheduled_for, trigger, status, created_at)
         VALUES (?, ?, ?, 'pending', ?)
         ON CONFLICT (task_id, scheduled_for) DO UPDATE SET status = 'pending', ended_at = NULL
         RETURNING id`,
    )
      .pluck()
      .get(taskId, scheduledFor, trigger, now) as number;
  }

  /** A manual run at `now` (moved by a millisecond if that instant already has a row). */
  insertManual(taskId: string, now: number): { id: number; scheduledFor: number } {
    const taken = this.stmt('SELECT 1 FROM task_runs WHERE task_id = ? AND scheduled_for = ?');
    let at = now;
    while (taken.get(taskId, at)) at++;
    return { id: this.upsertPending(taskId, at, 'manual', now), scheduledFor: at };
  }

  get(id: number): TaskRunRecord | undefined {
    const row = this.stmt('SELECT * FROM task_runs WHERE id = ?').get(id) as Row | undefined;
    return row && toTaskRun(row);
  }

  byOccurrence(taskId: string, scheduledFor: number): TaskRunRecord | undefined {
    const row = this.stmt('SELECT * FROM task_runs WHERE task_id = ? AND scheduled_for = ?').get(
      taskId,
      scheduledFor,
    ) as Row | undefined;
    return row && toTaskRun(row);
  }

  /** Occurrences of a task still pending or running, oldest first. */
  open(taskId: string): TaskRunRecord[] {
    const rows = this.stmt(
      `SELECT * FROM task_runs WHERE task_id = ? AND status IN ('pending', 'running')
         ORDER BY scheduled_for`,
    ).all(taskId) as Row[];
    return rows.map(toTaskRun);
  }

  /** An attempt starts: running, attempts + 1, the attempt's run id; started_at set once. */
  markRunning(id: number, runId: string, now: number): void {
    this.stmt(
      `UPDATE task_runs SET status = 'running', run_id = ?, attempts = attempts + 1,
           started_at = COALESCE(started_at, ?), error = NULL WHERE id = ?`,
    ).run(runId, now, id);
  }

  /** An attempt failed and will be retried: keep the error visible meanwhile. */
  noteAttemptError(id: number, error: string): void {
    this.stmt('UPDATE task_runs SET error = ? WHERE id = ?').run(error, id);
  }

  finish(
    id: number,
    f: {
      status: TaskRunFinal | 'missed';
      now: number;
      result?: string | null;
      error?: string | null;
      usage?: Usage;
    },
  ): void {
    const u = f.usage ?? {};
    const result = f.result ? f.result.slice(0, RESULT_SUMMARY_CHARS) : null;
    this.stmt(
      `UPDATE task_runs SET status = ?, ended_at = ?, result = ?, error = ?,
           input_tokens = ?, output_tokens = ?, cost_usd = ? WHERE id = ?`,
    ).run(
      f.status,
      f.now,
      result,
      f.error ?? null,
      u.inputTokens ?? null,
      u.outputTokens ?? null,
      u.costUsd ?? null,
      id,
    );
  }

  /** Newest first. */
  list(taskId: string, limit = 50): TaskRunRecord[] {
    const rows = this.stmt(
      'SELECT * FROM task_runs WHERE task_id = ? ORDER BY scheduled_for DESC LIMIT ?',
    ).all(taskId, limit) as Row[];
    return rows.map(toTaskRun);
  }

  countByStatus(taskId: string): Record<string, number> {
    const rows = this.stmt(
      'SELECT status, COUNT(*) AS n FROM task_runs WHERE task_id = ? GROUP BY status',
    ).all(taskId) as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /**
   * The first reply enqueued under an outbox key prefix (a task occurrence's replies share
   * one prefix across attempts), notices excluded: the run's result summary.
   */
  firstReply(keyPrefix: string): string | null {
    const from = `${keyPrefix}:`;
    const to = `${keyPrefix};`; // ';' sorts right after ':'
    return (
      (this.db
        .prepare(
          `SELECT text FROM outbox WHERE idem_key >= ? AND idem_key < ? AND idem_key NOT LIKE '%:notice%'
           ORDER BY id LIMIT 1`,
        )
        .pluck()
        .get(from, to) as string | undefined) ?? null
    );
  }
}
