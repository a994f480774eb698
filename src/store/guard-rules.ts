import { stmt, type Db } from './db.js';

export type RuleEffect = 'allow' | 'ask' | 'deny';

/** A rule the owner wrote: for `group`, actions of `kind` matching `pattern` get `effect`. */
export interface GuardRuleRecord {
  id: number;
  group: string;
  kind: string;
  pattern: string;
  effect: RuleEffect;
  createdAt: number;
  /** `owner`, or `approval #N` for an "always" answer. */
  createdBy: string;
  approvalId: number | null;
  revokedAt: number | null;
}

interface Row {
  id: number;
  group_folder: string;
  kind: string;
  pattern: string;
  effect: RuleEffect;
  created_at: number;
  created_by: string;
  approval_id: number | null;
  revoked_at: number | null;
}

const toRule = (r: Row): GuardRuleRecord => ({
  id: r.id,
  group: r.group_folder,
  kind: r.kind,
  pattern: r.pattern,
  effect: r.effect,
  createdAt: r.created_at,
  createdBy: r.created_by,
  approvalId: r.approval_id,
  revokedAt: r.revoked_at,
});

/** The owner's rules (visible and revocable); config rules are not stored here. */
export class GuardRuleStore {
  constructor(private readonly db: Db) {}

  /**
   * Adds a live rule; an existing live rule for the same group, kind and pattern is replaced
   * (revoked, then the new one written). Returns the new rule.
   */
  add(r: Omit<GuardRuleRecord, 'id' | 'revokedAt'>): GuardRuleRecord {
    const db = this.db;
    return db.transaction(() => {
      stmt(
        db,
        `UPDATE guard_rules SET revoked_at = ? WHERE group_folder = ? AND kind = ? AND pattern = ? AND revoked_at IS NULL`,
      ).run(r.createdAt, r.group, r.kind, r.pattern);
      const id = Number(
        stmt(
          db,
          `INSERT INTO guard_rules (group_folder, kind, pattern, effect, created_at, created_by, approval_id)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(r.group, r.kind, r.pattern, r.effect, r.createdAt, r.createdBy, r.approvalId)
          .lastInsertRowid,
      );
      return this.get(id)!;
    })();
  }

  get(id: number): GuardRuleRecord | undefined {
    const row = stmt(this.db, 'SELECT * FROM guard_rules WHERE id = ?').get(id) as Row | undefined;
    return row && toRule(row);
  }

  /** Live rules, oldest first (optionally of one group). */
  live(group?: string): GuardRuleRecord[] {
    const rows = (
      group === undefined
        ? stmt(this.db, 'SELECT * FROM guard_rules WHERE revoked_at IS NULL ORDER BY id').all()
        : stmt(
            this.db,
            'SELECT * FROM guard_rules WHERE revoked_at IS NULL AND group_folder = ? ORDER BY id',
          ).all(group)
    ) as Row[];
    return rows.map(toRule);
  }

  /** Revokes a live rule; false when there is none with that id. */
  revoke(id: number, now: number): boolean {
    return (
      stmt(
        this.db,
        'UPDATE guard_rules SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      ).run(now, id).changes === 1
    );
  }
}
