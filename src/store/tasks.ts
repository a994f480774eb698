import type Database from 'better-sqlite3';
import { stmt, type Db, whereEquals } from './db.js';

export type TaskType = 'cron' | 'interval' | 'once';
/** active → paused ⇄ active; active → completed (a once task ran); any → cancelled (final). */
export type TaskStatus = 'active' | 'paused' | 'completed' | 'cancelled';
export type ContextMode = 'group' | 'isolated';
export type MissedPolicyKind = 'skip' | 'latest' | 'all';

/** A scheduled task as stored. Times are UTC epoch milliseconds. */
export interface TaskRecord {
  id: string;
  group: string;
  /** Where output goes; null means the group's first chat at run time. */
  chatId: string | null;
  prompt: string;
  type: TaskType;
  /** Canonical schedule value (see schedule/schedule.ts `Schedule.value`). */
  value: string;
  timezone: string;
  contextMode: ContextMode;
  missedPolicy: MissedPolicyKind;
  missedCap: number | null;
  status: TaskStatus;
  /** The first due time not yet claimed; null when nothing more is due. */
  nextRunAt: number | null;
  /** Interval grid anchor: the task's first due time (null for cron and once). */
  anchorAt: number | null;
  lastRunAt: number | null;
  /** The daemon instance whose runs of this task are in flight, and until when that holds. */
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  consecutiveFailures: number;
  /** Optional pre-check script (runs in the sandbox; `{"wake": false}` skips the model call). */
  preCheck: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export type NewTaskRecord = Omit<
  TaskRecord,
  'lastRunAt' | 'leaseOwner' | 'leaseExpiresAt' | 'consecutiveFailures'
>;

/** Fields a caller may change with `update`. */
export type TaskPatch = Partial<
  Pick<
    TaskRecord,
    | 'chatId'
    | 'prompt'
    | 'type'
    | 'value'
    | 'timezone'
    | 'contextMode'
    | 'missedPolicy'
    | 'missedCap'
    | 'status'
    | 'nextRunAt'
    | 'anchorAt'
    | 'consecutiveFailures'
    | 'preCheck'
  >
>;

interface Row {
  id: string;
  group_folder: string;
  chat_jid: string | null;
  prompt: string;
  type: TaskType;
  value: string;
  timezone: string;
  context_mode: ContextMode;
  missed_policy: MissedPolicyKind;
  missed_cap: number | null;
  status: TaskStatus;
  next_run_at: number | null;
  anchor_at: number | null;
  last_run_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  consecutive_failures: number;
  pre_check: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

const toTask = (r: Row): TaskRecord => ({
  id: r.id,
  group: r.group_folder,
  chatId: r.chat_jid,
  prompt: r.prompt,
  type: r.type,
  value: r.value,
  timezone: r.timezone,
  contextMode: r.context_mode,
  missedPolicy: r.missed_policy,
  missedCap: r.missed_cap,
  status: r.status,
  nextRunAt: r.next_run_at,
  anchorAt: r.anchor_at,
  lastRunAt: r.last_run_at,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  consecutiveFailures: r.consecutive_failures,
  preCheck: r.pre_check,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const patchColumns: Record<keyof TaskPatch, string> = {
  chatId: 'chat_jid',
  prompt: 'prompt',
  type: 'type',
  value: 'value',
  timezone: 'timezone',
  contextMode: 'context_mode',
  missedPolicy: 'missed_policy',
  missedCap: 'missed_cap',
  status: 'status',
  nextRunAt: 'next_run_at',
  anchorAt: 'anchor_at',
  consecutiveFailures: 'consecutive_failures',
  preCheck: 'pre_check',
};

/** The state a claim expects to find (compare-and-swap): what the claimer read. */
export interface ClaimExpectation {
  id: string;
  nextRunAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
}

/** What a successful claim writes. */
export interface ClaimWrite {
  /** Null: nothing to run (all missed), the task is left without a lease. */
  owner: string | null;
  leaseExpiresAt: number | null;
  nextRunAt: number | null;
  status: TaskStatus;
  lastRunAt: number | null;
  now: number;
}

/** The hot statements (prepared once per store through `stmt`). */
const SQL = {
  get: 'SELECT * FROM tasks WHERE id = ?',
  earliestDue:
    "SELECT MIN(next_run_at) FROM tasks INDEXED BY tasks_due WHERE status = 'active' AND lease_owner IS NULL",
  earliestForeignLease:
    'SELECT MIN(lease_expires_at) FROM tasks INDEXED BY tasks_leases WHERE lease_owner IS NOT NULL AND lease_owner <> ?',
  due: `SELECT * FROM tasks INDEXED BY tasks_due WHERE status = 'active' AND lease_owner IS NULL AND next_run_at <= ?
         ORDER BY next_run_at LIMIT ?`,
  expiredLeases: `SELECT * FROM tasks INDEXED BY tasks_leases WHERE lease_owner IS NOT NULL AND lease_owner <> ? AND lease_expires_at <= ?
         ORDER BY lease_expires_at LIMIT ?`,
  claim: `UPDATE tasks SET lease_owner = @owner, lease_expires_at = @leaseExpiresAt,
           next_run_at = @nextRunAt, status = @status, last_run_at = COALESCE(@lastRunAt, last_run_at),
           updated_at = @now
         WHERE id = @id AND next_run_at IS @expectNext AND lease_owner IS @expectOwner
           AND lease_expires_at IS @expectExpiry
           AND (lease_owner IS NULL OR lease_expires_at <= @now)`,
  renew: 'UPDATE tasks SET lease_expires_at = ? WHERE lease_owner = ?',
  release:
    'UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?',
} as const;

/**
 * The `tasks` table. Claiming is a compare-and-swap: `claim` changes a row only if it still
 * holds exactly what the claimer read and carries no live lease, so of two daemons (or a
 * restarted one) reading the same due task, exactly one wins. Hot queries are prepared once
 * and served by partial indexes (`tasks_due`, `tasks_leases`): O(log n) in the task count.
 */
export class TaskStore {
  /** A prepared statement, compiled once per connection (see `stmt` in db.ts). */
  private stmt(sql: string): Database.Statement {
    return stmt(this.db, sql);
  }

  constructor(private readonly db: Db) {}

  insert(t: NewTaskRecord): void {
    this.stmt(
      `INSERT INTO tasks (id, group_folder, chat_jid, prompt, type, value, timezone, context_mode,
           missed_policy, missed_cap, status, next_run_at, anchor_at, pre_check, created_by, created_at, updated_at)
         VALUES (@id, @group, @chatId, @prompt, @type, @value, @timezone, @contextMode,
           @missedPolicy, @missedCap, @status, @nextRunAt, @anchorAt, @preCheck, @createdBy, @createdAt, @updatedAt)`,
    ).run(t);
  }

  get(id: string): TaskRecord | undefined {
    const row = this.stmt(SQL.get).get(id) as Row | undefined;
    return row && toTask(row);
  }

  list(opts: { group?: string; status?: TaskStatus; limit?: number } = {}): TaskRecord[] {
    const where = whereEquals({ group_folder: opts.group, status: opts.status });
    const sql = `SELECT * FROM tasks ${where.sql} ORDER BY group_folder, created_at, id LIMIT ?`;
    return (this.stmt(sql).all(...where.args, opts.limit ?? 10_000) as Row[]).map(toTask);
  }

  /** Changes the given fields (and updated_at); returns false when no such task. */
  update(id: string, patch: TaskPatch, now: number): boolean {
    const sets: string[] = ['updated_at = ?'];
    const args: unknown[] = [now];
    for (const [key, column] of Object.entries(patchColumns)) {
      const value = patch[key as keyof TaskPatch];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      args.push(value);
    }
    return (
      this.stmt(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`).run(...args, id).changes > 0
    );
  }

  remove(id: string): boolean {
    return this.stmt('DELETE FROM tasks WHERE id = ?').run(id).changes > 0;
  }

  /** The earliest next_run_at of an active task without a lease (one index probe). */
  earliestDue(): number | undefined {
    return (this.stmt(SQL.earliestDue).pluck().get() as number | null) ?? undefined;
  }

  /** When the first lease held by another instance expires (one index probe). */
  earliestForeignLeaseExpiry(self: string): number | undefined {
    return (this.stmt(SQL.earliestForeignLease).pluck().get(self) as number | null) ?? undefined;
  }

  /** Active, unleased tasks due at `now`, earliest first. */
  due(now: number, limit = 500): TaskRecord[] {
    return (this.stmt(SQL.due).all(now, limit) as Row[]).map(toTask);
  }

  /** Tasks whose lease, held by an instance other than `self`, has expired. */
  expiredLeases(self: string, now: number, limit = 500): TaskRecord[] {
    return (this.stmt(SQL.expiredLeases).all(self, now, limit) as Row[]).map(toTask);
  }

  /**
   * Takes the task's lease and moves next_run_at/status, only if the row still holds exactly
   * `expect` and has no live lease at `write.now`. True when this caller won the claim.
   */
  claim(expect: ClaimExpectation, write: ClaimWrite): boolean {
    return (
      this.stmt(SQL.claim).run({
        id: expect.id,
        expectNext: expect.nextRunAt,
        expectOwner: expect.leaseOwner,
        expectExpiry: expect.leaseExpiresAt,
        owner: write.owner,
        leaseExpiresAt: write.leaseExpiresAt,
        nextRunAt: write.nextRunAt,
        status: write.status,
        lastRunAt: write.lastRunAt,
        now: write.now,
      }).changes > 0
    );
  }

  /** Distinct lease owners right now (a handful at most). */
  leaseOwners(): string[] {
    return this.stmt('SELECT DISTINCT lease_owner FROM tasks WHERE lease_owner IS NOT NULL')
      .pluck()
      .all() as string[];
  }

  /** Extends one lease if `owner` still holds it (a run attempt starts). */
  renewLease(id: string, owner: string, expiresAt: number): boolean {
    return (
      this.stmt('UPDATE tasks SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?').run(
        expiresAt,
        id,
        owner,
      ).changes > 0
    );
  }

  /** Extends every lease `owner` holds (heartbeat). */
  renewLeases(owner: string, expiresAt: number): number {
    return this.stmt(SQL.renew).run(expiresAt, owner).changes;
  }

  /** Drops the lease if `owner` still holds it. */
  releaseLease(id: string, owner: string): boolean {
    return this.stmt(SQL.release).run(id, owner).changes > 0;
  }

  /** Makes every lease of `owner` expire at `now` (a stopping daemon hands its work back). */
  expireLeases(owner: string, now: number): number {
    return this.stmt('UPDATE tasks SET lease_expires_at = ? WHERE lease_owner = ?').run(now, owner)
      .changes;
  }

  /** Counts a final failure; returns the new consecutive count. */
  addFailure(id: string, now: number): number {
    this.stmt(
      'UPDATE tasks SET consecutive_failures = consecutive_failures + 1, updated_at = ? WHERE id = ?',
    ).run(now, id);
    return this.get(id)?.consecutiveFailures ?? 0;
  }

  /** The next `limit` active tasks by next_run_at (for status). */
  upcoming(limit = 5): TaskRecord[] {
    const rows = this.stmt(
      `SELECT * FROM tasks WHERE status = 'active' AND next_run_at IS NOT NULL
         ORDER BY next_run_at LIMIT ?`,
    ).all(limit) as Row[];
    return rows.map(toTask);
  }

  countByStatus(): Record<string, number> {
    const rows = this.stmt(
      'SELECT status, COUNT(*) AS n FROM tasks GROUP BY status',
    ).all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
