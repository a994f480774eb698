import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { AgentSessionRecord } from '../../store/agent-sessions.js';
import type { DelegationRecord } from '../../store/delegations.js';
import type { RunRecord } from '../../store/runs.js';
import type { Store } from '../../store/store.js';
import {
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  json,
  oneLine,
  runDuration,
  table,
} from '../format.js';
import { intOption, withLocalStore } from '../local.js';
import { budgetStatus, renderBudgets } from './budget-view.js';

/** The runs table: newest first, one line each. Pure (for a given `now`). */
export function renderRuns(runs: RunRecord[], now = Date.now()): string {
  if (!runs.length) return 'no runs yet';
  return table(
    ['ID', 'GROUP', 'KIND', 'STATUS', 'STARTED', 'DURATION', 'TOKENS in/out', 'COST', 'ERROR'],
    runs.map((r) => [
      // A delegate run is marked as the child of the run that asked for it.
      r.parentRunId ? `↳ ${r.id}` : r.id,
      r.group,
      r.kind === 'message' ? 'chat' : r.kind,
      r.attempt > 1 ? `${r.status} (try ${r.attempt})` : r.status,
      formatTime(r.startedAt),
      formatDuration(runDuration(r, now)) + (r.endedAt === null ? '…' : ''),
      formatTokens(r),
      formatCost(r.usage?.costUsd),
      oneLine(r.error, 60),
    ]),
  );
}

/** Every field of one run; with its delegate runs (children) when it has some. */
export function renderRun(
  r: RunRecord,
  now = Date.now(),
  family: { children?: RunRecord[]; delegation?: DelegationRecord } = {},
): string {
  const u = r.usage ?? {};
  const lines = [
    `id:        ${r.id}`,
    `group:     ${r.group}`,
    `kind:      ${r.kind}${r.taskId ? ` (task ${r.taskId})` : ''}`,
    `chat:      ${r.chatId ?? '-'}`,
    `answers:   ${r.replyTo ?? '-'}`,
    `session:   ${r.sessionId ?? '-'}`,
    `messages:  ${r.seqStart === null ? '-' : `seq ${r.seqStart}..${r.seqEnd ?? '?'}`}`,
    `status:    ${r.status}`,
    `attempt:   ${r.attempt}`,
    `started:   ${formatTime(r.startedAt)}`,
    `ended:     ${formatTime(r.endedAt)}`,
    `duration:  ${formatDuration(runDuration(r, now))}${r.endedAt === null ? ' (still running)' : ''}`,
    `tokens:    in ${u.inputTokens ?? '-'}, out ${u.outputTokens ?? '-'}, cache read ${u.cacheReadTokens ?? '-'}, cache write ${u.cacheWriteTokens ?? '-'}`,
    `cost:      ${formatCost(u.costUsd)}`,
  ];
  if (r.error) lines.push(`error:     ${r.error}`);
  if (r.parentRunId) lines.push(`parent:    ${r.parentRunId} (delegated by it)`);
  if (r.billedTo.length) lines.push(`billed to: ${r.billedTo.join(', ')} (and ${r.group})`);
  const d = family.delegation;
  if (d)
    lines.push(
      `delegation: ${d.id} from ${d.callerGroup} (depth ${d.depth}, ${d.wait ? 'waited for' : 'result to the chat'}): ${d.status}${d.error ? ` — ${d.error}` : ''}`,
    );
  for (const c of family.children ?? [])
    lines.push(
      `child:     ${c.id} ${c.group} ${c.status} ${formatTokens(c)} ${formatCost(c.usage?.costUsd)}`,
    );
  return lines.join('\n');
}

/** Agent sessions: live ones first, then recent closed ones. Pure (for a given `now`). */
export function renderSessions(list: AgentSessionRecord[], now = Date.now()): string {
  if (!list.length) return 'no agent sessions yet';
  return table(
    ['ID', 'GROUP', 'LANE', 'HARNESS', 'STATE', 'TURNS', 'STARTED', 'LAST ACTIVE', 'ENDED'],
    list.map((x) => [
      x.id,
      x.group,
      x.lane === x.group
        ? 'conversation'
        : x.lane.startsWith('delegate:')
          ? x.lane
          : x.lane.slice(x.group.length + 1),
      x.harness,
      x.state,
      String(x.turns),
      formatTime(x.startedAt),
      formatTime(x.lastActiveAt),
      x.endedAt === null
        ? `(live ${formatDuration(now - x.startedAt)})`
        : `${formatTime(x.endedAt)}: ${oneLine(x.endReason, 40)}`,
    ]),
  );
}

/** `clawpod runs list|show|sessions|usage`, read straight from the database. */
export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('recent agent runs: status, duration, tokens, cost, error');

  /** A newest-first listing read from the database, filtered by group, as a table or JSON. */
  const listing = <T>(
    name: string,
    description: string,
    read: (store: Store, opts: { limit: number; group?: string }) => T[],
    render: (rows: T[]) => string,
  ) =>
    runs
      .command(name, { isDefault: name === 'list' })
      .description(description)
      .option('--group <group>', 'only this group')
      .option('-n, --limit <n>', 'how many', intOption(1), 20)
      .option('--json', 'print as JSON')
      .action(async (opts: { group?: string; limit: number; json?: boolean }) => {
        const config = loadConfig();
        const rows = await withLocalStore(config, { create: false }, (store) => read(store, opts));
        console.log(opts.json ? json(rows) : render(rows));
      });

  listing('list', 'recent runs, newest first', (s, o) => s.runs.list(o), renderRuns);
  listing(
    'sessions',
    'agent sessions (warm processes waiting for follow-ups), apart from runs',
    (s, o) => s.agentSessions.list(o),
    renderSessions,
  );

  runs
    .command('usage')
    .description('the usage ledger: runs, tokens and cost per group and day')
    .option('--days <n>', 'how many days back', intOption(1), 30)
    .option('--json', 'print as JSON')
    .action(async (opts: { days: number; json?: boolean }) => {
      const config = loadConfig();
      const { days, caps } = await withLocalStore(config, { create: false }, (store) => ({
        days: store.usage.byGroupDay(Date.now() - opts.days * 86_400_000, config.timezone),
        caps: budgetStatus(config, store),
      }));
      if (opts.json) return console.log(json({ days, budgets: caps }));
      if (caps.length) console.log(renderBudgets(caps) + '\n');
      if (!days.length) return console.log(`no runs in the last ${opts.days} days`);
      console.log(
        table(
          ['DAY', 'GROUP', 'RUNS', 'TOKENS in/out', 'COST'],
          days.map((u) => [
            u.day,
            u.group,
            String(u.runs),
            formatTokens({ usage: u }),
            formatCost(u.costUsd),
          ]),
        ),
      );
    });

  runs
    .command('show <id>')
    .description('one run in full (an unambiguous id prefix will do)')
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const found = await withLocalStore(config, { create: false }, (store) => {
        const exact = store.runs.get(id);
        const matches = exact
          ? [exact]
          : store.runs.list({ limit: 10_000 }).filter((r) => r.id.startsWith(id));
        if (matches.length > 1)
          throw new Error(`"${id}" matches ${matches.length} runs; give more of the id`);
        const run = matches[0];
        return (
          run && {
            run,
            children: store.runs.children(run.id),
            delegation: store.delegations.byRun(run.id),
          }
        );
      });
      if (!found) throw new Error(`no run ${id} (clawpod runs list)`);
      const { run, ...family } = found;
      console.log(opts.json ? json({ ...run, ...family }) : renderRun(run, Date.now(), family));
    });
}
