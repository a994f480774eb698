import { stmt, type Db } from './db.js';

export type BudgetScope = 'group' | 'task';
export type BudgetPeriod = 'daily' | 'monthly';
export type BudgetUnit = 'usd' | 'tokens';

/** A cap the owner raised through an approval; it overrides the configured one. */
export interface BudgetCapRecord {
  scope: BudgetScope;
  ref: string;
  period: BudgetPeriod;
  unit: BudgetUnit;
  cap: number;
  updatedAt: number;
}

/** Raised budget caps (config holds the initial ones). */
export class BudgetCapStore {
  constructor(private readonly db: Db) {}

  set(c: BudgetCapRecord): void {
    stmt(
      this.db,
      `INSERT INTO budget_caps (scope, ref, period, unit, cap, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (scope, ref, period, unit) DO UPDATE SET cap = excluded.cap, updated_at = excluded.updated_at`,
    ).run(c.scope, c.ref, c.period, c.unit, c.cap, c.updatedAt);
  }

  all(): BudgetCapRecord[] {
    return (
      stmt(this.db, 'SELECT * FROM budget_caps ORDER BY scope, ref, period, unit').all() as Array<{
        scope: BudgetScope;
        ref: string;
        period: BudgetPeriod;
        unit: BudgetUnit;
        cap: number;
        updated_at: number;
      }>
    ).map((r) => ({
      scope: r.scope,
      ref: r.ref,
      period: r.period,
      unit: r.unit,
      cap: r.cap,
      updatedAt: r.updated_at,
    }));
  }
}
