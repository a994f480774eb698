import { systemClock } from '../../clock.js';
import type { Config } from '../../config/load.js';
import { Budgets, fmt, type CapStatus } from '../../guard/budgets.js';
import { silentLogger } from '../../logging/logger.js';
import type { Store } from '../../store/store.js';
import { table } from '../format.js';

/** Every cap with its spend now, read from the database (no daemon needed). */
export function budgetStatus(config: Config, store: Store): CapStatus[] {
  return new Budgets({
    config,
    store,
    clock: systemClock,
    log: silentLogger(),
    guard: {
      request: () => {
        throw new Error('read-only');
      },
    },
    notifyOwner: () => undefined,
  }).status();
}

/** Spend against each cap: `clawpod runs usage`. Pure. */
export function renderBudgets(caps: CapStatus[]): string {
  return table(
    ['BUDGET', 'PERIOD', 'SPENT', 'CAP', 'USED'],
    caps.map((c) => [
      `${c.scope} ${c.ref}`,
      c.period,
      fmt(c.unit, c.spent),
      fmt(c.unit, c.cap) + (c.raised ? ' (raised)' : ''),
      `${Math.round(c.used * 100)} %${c.used >= 1 ? ' over' : c.used >= 0.8 ? ' !' : ''}`,
    ]),
  );
}
