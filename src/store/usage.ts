import { stmt, type Db } from './db.js';

/** Runs, tokens and cost of one group on one local day. */
export interface UsageDay {
  group: string;
  /** YYYY-MM-DD in the configured time zone. */
  day: string;
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Sum of the costs reported; runs without a cost (unknown models) add nothing. */
  costUsd: number;
}

interface Row {
  group_folder: string;
  started_at: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
}

/** The usage ledger, read from the `runs` table. */
export class UsageStore {
  constructor(private readonly db: Db) {}

  /**
   * Every run since `sinceMs` (silent and tool-only runs included, failed ones too: their
   * tokens were spent) summed per group and local day in `timezone`, newest day first.
   */
  byGroupDay(sinceMs: number, timezone: string): UsageDay[] {
    const dayOf = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    const rows = stmt(
      this.db,
      `SELECT group_folder, started_at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd
       FROM runs WHERE started_at >= ? ORDER BY started_at`,
    ).all(sinceMs) as Row[];
    const out = new Map<string, UsageDay>();
    for (const r of rows) {
      const day = dayOf.format(new Date(r.started_at));
      const key = `${r.group_folder}\u0000${day}`;
      let u = out.get(key);
      if (!u) {
        u = {
          group: r.group_folder,
          day,
          runs: 0,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: 0,
        };
        out.set(key, u);
      }
      u.runs++;
      u.inputTokens += r.input_tokens ?? 0;
      u.outputTokens += r.output_tokens ?? 0;
      u.cacheReadTokens += r.cache_read_tokens ?? 0;
      u.cacheWriteTokens += r.cache_write_tokens ?? 0;
      u.costUsd += r.cost_usd ?? 0;
    }
    return [...out.values()].sort(
      (a, b) => b.day.localeCompare(a.day) || a.group.localeCompare(b.group),
    );
  }

  /**
   * What a group (or one task of it) spent since `sinceMs`: every run, silent and failed ones
   * included, and the delegate runs it asked for (for a group: every delegate run it, or its
   * delegates, asked for; for a task: the delegate runs under that task's runs, at any depth).
   * Tokens are input + output (cache reads and writes are priced into the cost).
   */
  spentSince(scope: { group: string; taskId?: string }, sinceMs: number): Spend {
    const params = { group: scope.group, since: sinceMs, task: scope.taskId ?? null };
    if (scope.taskId === undefined) {
      return stmt(
        this.db,
        `SELECT ${SPEND_COLUMNS} FROM runs WHERE started_at >= @since
           AND (group_folder = @group
             -- A delegate run counts to the budgets of the groups that delegated it, too.
             OR (billed_to IS NOT NULL
               AND EXISTS (SELECT 1 FROM json_each(runs.billed_to) WHERE value = @group)))`,
      ).get(params) as Spend;
    }
    // A task's runs and, down parent_run_id, the delegate runs they (and their delegates) asked
    // for: delegating does not dodge a task's cap either.
    return stmt(
      this.db,
      `WITH RECURSIVE tree(id) AS (
         SELECT id FROM runs WHERE group_folder = @group AND task_id = @task AND started_at >= @since
         UNION ALL
         SELECT child.id FROM runs child JOIN tree ON child.parent_run_id = tree.id
       )
       SELECT ${SPEND_COLUMNS} FROM runs WHERE id IN (SELECT id FROM tree)`,
    ).get(params) as Spend;
  }

  /**
   * Cost and tokens of the last `n` finished runs of a group (or task) that ran (skipped ones
   * left out), newest first: the base of an expected cost.
   */
  recent(scope: { group: string; taskId?: string }, n: number): Spend[] {
    return stmt(
      this.db,
      `SELECT 1 AS runs, COALESCE(cost_usd, 0) AS usd,
              COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) AS tokens
         FROM runs WHERE group_folder = @group AND (@task IS NULL OR task_id = @task)
           AND status != 'running' AND skipped IS NULL
           AND (cost_usd IS NOT NULL OR input_tokens IS NOT NULL)
         ORDER BY started_at DESC LIMIT @n`,
    ).all({ group: scope.group, task: scope.taskId ?? null, n }) as Spend[];
  }
}

const SPEND_COLUMNS = `COUNT(*) AS runs, COALESCE(SUM(cost_usd), 0) AS usd,
  COALESCE(SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)), 0) AS tokens`;

/** Money and tokens spent by some runs. */
export interface Spend {
  runs: number;
  usd: number;
  tokens: number;
}
