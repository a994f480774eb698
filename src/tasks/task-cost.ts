/**
 * What a task is expected to cost: the mean of its own last runs (else its group's), times
 * its runs in the next 30 days. "unknown" honestly when nothing has run yet. Every run counts
 * in the mean, the silent ones too (a turn that sends no reply still spends).
 */
import { occurrencesBetween, scheduleOf } from '../schedule/schedule.js';
import type { Store } from '../store/store.js';
import type { TaskRecord } from '../store/tasks.js';

/** How many recent runs the mean is over. */
const OVER_RUNS = 10;
const MONTH_MS = 30 * 86_400_000;

export interface ExpectedCost {
  /** Mean USD of a run; null: unknown (no run with a reported cost yet). */
  perRunUsd: number | null;
  perRunTokens: number | null;
  /** Runs in the next 30 days (a lower bound for a very frequent cron). */
  runsPerMonth: number;
  perMonthUsd: number | null;
  /** How many runs the mean is over, and whose: the task's own or its group's. */
  basis: { runs: number; of: 'task' | 'group' | 'none' };
  /** One line for people: "$0.02 a run, about $0.60 a month (mean of 3 runs of this task)". */
  text: string;
}

export function expectedTaskCost(store: Store, task: TaskRecord, now: number): ExpectedCost {
  let of: ExpectedCost['basis']['of'] = 'task';
  let runs = store.usage.recent({ group: task.group, taskId: task.id }, OVER_RUNS);
  if (!runs.length) {
    of = 'group';
    runs = store.usage.recent({ group: task.group }, OVER_RUNS);
  }
  if (!runs.length) of = 'none';
  const mean = (k: 'usd' | 'tokens') =>
    runs.length ? runs.reduce((n, r) => n + r[k], 0) / runs.length : null;
  const anchor = task.anchorAt === null ? undefined : new Date(task.anchorAt);
  const runsPerMonth =
    task.status === 'active'
      ? occurrencesBetween(scheduleOf(task), new Date(now - 1), new Date(now + MONTH_MS), anchor, 1)
          .total
      : 0;
  const perRunUsd = mean('usd');
  const perMonthUsd = perRunUsd === null ? null : perRunUsd * runsPerMonth;
  const usd = (n: number) => `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
  const text =
    perRunUsd === null || perMonthUsd === null
      ? `expected cost unknown (no runs of group "${task.group}" yet); ${runsPerMonth} runs in the next 30 days`
      : `${usd(perRunUsd)} a run, about ${usd(perMonthUsd)} a month (${runsPerMonth} runs; mean of the last ${runs.length} runs of this ${of})`;
  return {
    perRunUsd,
    perRunTokens: mean('tokens'),
    runsPerMonth,
    perMonthUsd,
    basis: { runs: runs.length, of },
    text,
  };
}
