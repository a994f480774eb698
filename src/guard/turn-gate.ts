/** The guard's part of a turn (runs/turn.ts TurnGuard): taint recorded, budget checked. */
import type { TurnGuard } from '../runs/turn.js';
import type { Budgets } from './budgets.js';
import type { Guard } from './guard.js';

export function turnGuard(guard: Guard, budgets: Budgets): TurnGuard {
  return {
    async before(t) {
      if (t.taint.length) guard.taint.add(t.runId, t.taint);
      return budgets.beforeRun(t);
    },
    after(runId) {
      guard.taint.forget(runId);
    },
  };
}
