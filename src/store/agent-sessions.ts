import { stmt, type Db, whereEquals } from './db.js';

export type AgentSessionState = 'idle' | 'busy' | 'closing' | 'closed';

/** A live agent process (or the record of one): what `clawpod runs sessions` and the API show. */
export interface AgentSessionRecord {
  id: string;
  group: string;
  /** The queue lane it serves: the group (conversation) or `<group>#task:<id>` (isolated task). */
  lane: string;
  harness: string;
  state: AgentSessionState;
  turns: number;
  startedAt: number;
  lastActiveAt: number;
  endedAt: number | null;
  /** Why it ended: idle, evicted, settings changed, shutdown, crashed… never a run failure by itself. */
  endReason: string | null;
}

interface Row {
  id: string;
  group_folder: string;
  lane: string;
  harness: string;
  state: AgentSessionState;
  turns: number;
  started_at: number;
  last_active_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

const toRecord = (r: Row): AgentSessionRecord => ({
  id: r.id,
  group: r.group_folder,
  lane: r.lane,
  harness: r.harness,
  state: r.state,
  turns: r.turns,
  startedAt: r.started_at,
  lastActiveAt: r.last_active_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

/** The record of agent sessions, kept in step with the session pool's state transitions. */
export class AgentSessionStore {
  constructor(private readonly db: Db) {}

  open(s: { id: string; group: string; lane: string; harness: string; now: number }): void {
    stmt(
      this.db,
      `INSERT INTO agent_sessions (id, group_folder, lane, harness, state, started_at, last_active_at)
         VALUES (?, ?, ?, ?, 'idle', ?, ?)`,
    ).run(s.id, s.group, s.lane, s.harness, s.now, s.now);
  }

  /** A transition; `turnStarted` counts a turn. */
  setState(id: string, state: Exclude<AgentSessionState, 'closed'>, now: number): void {
    stmt(
      this.db,
      `UPDATE agent_sessions SET state = ?, last_active_at = ?, turns = turns + ?
         WHERE id = ? AND state <> 'closed'`,
    ).run(state, now, state === 'busy' ? 1 : 0, id);
  }

  close(id: string, reason: string, now: number): void {
    stmt(
      this.db,
      `UPDATE agent_sessions SET state = 'closed', ended_at = ?, end_reason = ?
         WHERE id = ? AND state <> 'closed'`,
    ).run(now, reason, id);
  }

  /** Sessions a stop or crash left open (start-up): their processes are gone. */
  closeStale(now: number): number {
    return stmt(
      this.db,
      `UPDATE agent_sessions SET state = 'closed', ended_at = ?, end_reason = 'the daemon stopped'
         WHERE state <> 'closed'`,
    ).run(now).changes;
  }

  get(id: string): AgentSessionRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM agent_sessions WHERE id = ?').get(id) as
      Row | undefined;
    return row && toRecord(row);
  }

  /** Live sessions first, then the most recent closed ones. */
  list(opts: { limit?: number; group?: string; live?: boolean } = {}): AgentSessionRecord[] {
    const where = whereEquals({ group_folder: opts.group });
    const live = opts.live ? `${where.sql ? ' AND' : 'WHERE'} state <> 'closed'` : '';
    const sql = `SELECT * FROM agent_sessions ${where.sql}${live}
      ORDER BY state = 'closed', started_at DESC LIMIT ?`;
    return (stmt(this.db, sql).all(...where.args, opts.limit ?? 50) as Row[]).map(toRecord);
  }
}
