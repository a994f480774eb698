/**
 * Budgets: daily and monthly caps per group and per task, in USD and/or tokens (input +
 * output), over the usage ledger (every run counts: silent ones, failed ones). Before a run
 * starts, a cap it would cross pauses it and asks the owner through the guard: `yes` runs it
 * this once, `always` raises the cap (to twice its value), `no` skips it. A warning goes to the
 * owner once per cap and period when 80 % (config `budgets.warnAt`) is spent.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { BudgetPeriod, BudgetScope, BudgetUnit } from '../store/budget-caps.js';
import type { Store } from '../store/store.js';
import type { Spend } from '../store/usage.js';
import { instantFromWallTime, wallTimeAt } from '../schedule/time-zone.js';
import type { BudgetAction } from './actions.js';
import type { Guard } from './guard.js';

/** How many recent runs an expected cost is the mean of. */
export const EXPECTED_OVER_RUNS = 10;

/** One cap and what has been spent against it in its current period. */
export interface CapStatus {
  scope: BudgetScope;
  ref: string;
  /** The group the cap's runs belong to. */
  group: string;
  period: BudgetPeriod;
  unit: BudgetUnit;
  cap: number;
  /** True when the owner raised it (an `always` answer) over the configured value. */
  raised: boolean;
  spent: number;
  /** spent / cap. */
  used: number;
  /** Start of the period (local midnight, or the 1st of the month, in the configured zone). */
  since: number;
}

/** Expected cost of one run: the mean of the last runs; null where there are none. */
export interface Expected {
  usd: number | null;
  tokens: number | null;
  /** How many runs the mean is over (0: unknown). */
  basis: number;
}

export interface BudgetDeps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  guard: Pick<Guard, 'request'>;
  notifyOwner(key: string, text: string): void;
}

export type BudgetGate = { go: true } | { go: false; reason: string };

export class Budgets {
  constructor(private readonly deps: BudgetDeps) {}

  /** Start of the local day or month containing `ms`. */
  periodStart(period: BudgetPeriod, ms: number): number {
    const zone = this.deps.config.timezone;
    const w = wallTimeAt(zone, ms);
    return instantFromWallTime(zone, {
      ...w,
      day: period === 'monthly' ? 1 : w.day,
      hour: 0,
      minute: 0,
      second: 0,
      millisecond: 0,
    });
  }

  /** The mean cost and tokens of the last runs of a task (else its group). */
  expected(group: string, taskId?: string): Expected {
    const { usage } = this.deps.store;
    let runs: Spend[] = taskId ? usage.recent({ group, taskId }, EXPECTED_OVER_RUNS) : [];
    if (!runs.length) runs = usage.recent({ group }, EXPECTED_OVER_RUNS);
    if (!runs.length) return { usd: null, tokens: null, basis: 0 };
    const mean = (k: 'usd' | 'tokens') => runs.reduce((n, r) => n + r[k], 0) / runs.length;
    return { usd: mean('usd'), tokens: mean('tokens'), basis: runs.length };
  }

  /** Every configured (or raised) cap with its spend now; of one group and its tasks if given. */
  status(group?: string): CapStatus[] {
    const { config, store, clock } = this.deps;
    const raised = new Map(
      store.budgetCaps.all().map((c) => [`${c.scope}:${c.ref}:${c.period}:${c.unit}`, c.cap]),
    );
    const out: CapStatus[] = [];
    const now = clock.now();
    const add = (scope: BudgetScope, ref: string, owner: string, caps: BudgetConfig) => {
      if (group !== undefined && owner !== group) return;
      for (const period of ['daily', 'monthly'] as const) {
        const c = caps[period];
        if (!c) continue;
        const since = this.periodStart(period, now);
        const spend = store.usage.spentSince(
          scope === 'task' ? { group: owner, taskId: ref } : { group: owner },
          since,
        );
        for (const unit of ['usd', 'tokens'] as const) {
          const configured = c[unit];
          if (configured === undefined) continue;
          const r = raised.get(`${scope}:${ref}:${period}:${unit}`);
          const cap = r !== undefined && r > configured ? r : configured;
          const spent = spend[unit];
          out.push({
            scope,
            ref,
            group: owner,
            period,
            unit,
            cap,
            raised: cap !== configured,
            spent,
            used: spent / cap,
            since,
          });
        }
      }
    };
    for (const [g, caps] of Object.entries(config.file.budgets.groups)) add('group', g, g, caps);
    for (const [taskId, caps] of Object.entries(config.file.budgets.tasks)) {
      const task = store.tasks.get(taskId);
      if (task) add('task', taskId, task.group, caps);
    }
    return out;
  }

  /**
   * Before a run: the caps of its group (and task) with its expected cost added. Crossing one
   * pauses here until the owner answers: allowed → go; denied or expired → skip (not a
   * failure). Reaching the warning level notifies the owner once per period.
   */
  async beforeRun(run: {
    runId: string;
    group: string;
    taskId?: string;
    chat: string;
  }): Promise<BudgetGate> {
    const caps = this.status(run.group).filter((c) => c.scope === 'group' || c.ref === run.taskId);
    if (!caps.length) return { go: true };
    const exp = this.expected(run.group, run.taskId);
    for (const c of caps) {
      const expected = exp[c.unit];
      // Over the cap already, or the expected run would cross it.
      const crossing = c.spent >= c.cap || (expected !== null && c.spent + expected > c.cap);
      if (!crossing) {
        this.warn(c);
        continue;
      }
      const action: BudgetAction = {
        kind: 'budget',
        scope: c.scope,
        ref: c.ref,
        period: c.period,
        unit: c.unit,
        cap: c.cap,
        spent: c.spent,
        expected,
        raiseTo: c.cap * 2,
      };
      const asked = this.deps.guard.request(action, {
        group: run.group,
        runId: run.runId,
        chat: run.chat,
      });
      if (asked.verdict === 'allow') continue;
      if (asked.verdict === 'deny') return { go: false, reason: asked.message };
      this.deps.log.info(
        { group: run.group, run: run.runId, approval: asked.approval.id },
        'run paused: over budget, asking',
      );
      const outcome = await asked.decided;
      // A stop while asking is no skip: the run is interrupted, its input stays pending.
      if (!outcome.allowed && outcome.via === 'shutdown') throw new Error(outcome.message);
      if (!outcome.allowed)
        return {
          go: false,
          reason: `over the ${c.period} budget of ${c.scope} "${c.ref}" (${fmt(c.unit, c.spent)} of ${fmt(c.unit, c.cap)}); ${outcome.via === 'expired' ? 'no answer in time' : 'the owner said skip'} (approval #${outcome.approval})`,
        };
    }
    return { go: true };
  }

  private warn(c: CapStatus): void {
    const at = this.deps.config.file.budgets.warnAt;
    if (c.used < at) return;
    this.deps.notifyOwner(
      `budget:${c.scope}:${c.ref}:${c.period}:${c.unit}:${c.since}:${c.cap}`,
      `💸 ${c.scope === 'group' ? 'Group' : 'Task'} "${c.ref}" has used ${Math.round(c.used * 100)} % of its ${c.period} budget (${fmt(c.unit, c.spent)} of ${fmt(c.unit, c.cap)}).`,
    );
  }
}

type BudgetConfig = Config['file']['budgets']['groups'][string];

export const fmt = (unit: BudgetUnit, n: number) =>
  unit === 'usd' ? `$${n.toFixed(2)}` : `${Math.round(n).toLocaleString('en-US')} tokens`;
