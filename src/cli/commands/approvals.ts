import { Option, type Command } from 'commander';
import { systemClock } from '../../clock.js';
import { loadConfig, type Config } from '../../config/load.js';
import { EventBus } from '../../events/bus.js';
import { Guard, decidedText } from '../../guard/guard.js';
import { silentLogger } from '../../logging/logger.js';
import type { ApprovalDecision, ApprovalRecord } from '../../store/approvals.js';
import type { GuardRuleRecord } from '../../store/guard-rules.js';
import type { Store } from '../../store/store.js';
import { ApiClient, ApiError } from '../api-client.js';
import { formatTime, json, oneLine, table } from '../format.js';
import { intOption, withLocalStore } from '../local.js';
import { UsageError } from '../usage-error.js';
import { effectLines, summaryOf, type GuardAction } from '../../guard/actions.js';

/** A guard on the database alone (no daemon): decisions are recorded, nobody waits on them. */
function offlineGuard(config: Config, store: Store): Guard {
  return new Guard({
    config,
    store,
    clock: systemClock,
    bus: new EventBus(),
    outbox: { enqueue: () => 0, kick: () => undefined },
    log: silentLogger(),
  });
}

/** The approvals table, newest first. Pure (for a given `now`). */
export function renderApprovals(list: ApprovalRecord[], status: string, now = Date.now()): string {
  if (!list.length)
    return status === 'all' ? 'no approvals' : `no ${status} approvals (--all shows every one)`;
  return table(
    ['ID', 'GROUP', 'KIND', 'STATUS', 'ASKED', 'EXPIRES', 'WHAT'],
    list.map((a) => [
      `#${a.id}`,
      a.group,
      a.kind,
      a.status === 'pending' ? 'pending' : `${a.status} (${a.decision ?? '-'})`,
      formatTime(a.requestedAt),
      a.status === 'pending' ? (a.expiresAt > now ? formatTime(a.expiresAt) : 'now') : '-',
      oneLine((a.taint.length ? '⚠ tainted: ' : '') + summaryOf(a.effect as GuardAction), 70),
    ]),
  );
}

/** One approval in full: the card as the owner saw it, and how it was decided. */
export function renderApproval(a: ApprovalRecord): string {
  const lines = [
    `id:        #${a.id}`,
    `group:     ${a.group}`,
    `run:       ${a.runId ?? '-'}`,
    `kind:      ${a.kind}`,
    `asked in:  ${a.askedIn ?? '(no chat: answer here)'}`,
    `asked:     ${formatTime(a.requestedAt)}`,
    `expires:   ${formatTime(a.expiresAt)}`,
    `status:    ${a.status}`,
  ];
  if (a.status !== 'pending') lines.push(`decided:   ${decidedText(a)}`);
  lines.push('', a.card);
  // The card cuts long tool arguments; here every one is printed whole.
  if (a.kind === 'tool' && a.card.includes('… [cut:'))
    lines.push('', 'Every argument in full:', ...effectLines(a.effect as GuardAction).slice(1));
  if (a.status === 'pending')
    lines.push(
      '',
      `clawpod approvals allow ${a.id} [--always]   |   clawpod approvals deny ${a.id}`,
    );
  return lines.join('\n');
}

export function renderRules(rules: GuardRuleRecord[]): string {
  if (!rules.length) return 'no rules of the owner (the defaults and config rules apply)';
  return table(
    ['ID', 'GROUP', 'KIND', 'PATTERN', 'EFFECT', 'CREATED', 'BY'],
    rules.map((r) => [
      `#${r.id}`,
      r.group,
      r.kind,
      r.pattern,
      r.effect,
      formatTime(r.createdAt),
      r.createdBy,
    ]),
  );
}

/**
 * Decides through the running daemon when one answers (the waiting run goes on at once);
 * without a daemon the decision is written to the database (nothing waits on it then).
 */
async function decide(
  config: Config,
  id: number,
  decision: ApprovalDecision,
): Promise<ApprovalRecord> {
  const client = ApiClient.fromConfig(config);
  if (await client.probe(1500)) {
    try {
      return await client.decideApproval(id, decision);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) throw new UsageError(err.message);
      throw err;
    }
  }
  return withLocalStore(config, { create: false }, (store) => {
    const r = offlineGuard(config, store).answer(id, decision, 'owner');
    if (!r.ok) throw new Error(r.message);
    return r.approval;
  });
}

/** `clawpod approvals list|show|allow|deny|rules|revoke`. */
export function registerApprovals(program: Command): void {
  const ap = program
    .command('approvals')
    .description('what the agents asked the owner: list, show, allow (once or always), deny');

  ap.command('list', { isDefault: true })
    .description('approvals, newest first (pending ones unless --status/--all)')
    .addOption(
      new Option('--status <status>', 'which ones')
        .choices(['pending', 'allowed', 'denied', 'expired', 'all'])
        .default('pending'),
    )
    .option('--all', 'every approval (same as --status all)')
    .option('--group <group>', 'only this group')
    .option('--kind <kind>', 'only this kind (egress, send_message, sender, budget…)')
    .option('-n, --limit <n>', 'how many', intOption(1), 50)
    .option('--json', 'print as JSON')
    .action(
      async (o: {
        status: 'pending' | 'allowed' | 'denied' | 'expired' | 'all';
        all?: boolean;
        group?: string;
        kind?: string;
        limit: number;
        json?: boolean;
      }) => {
        const config = loadConfig();
        const status = o.all ? 'all' : o.status;
        const list = await withLocalStore(config, { create: false }, (s) =>
          s.approvals.list({ status, group: o.group, kind: o.kind, limit: o.limit }),
        );
        console.log(o.json ? json(list) : renderApprovals(list, status));
      },
    );

  ap.command('show')
    .description('one approval in full: the effect, why it asks, how it was decided')
    .argument('<id>', 'approval id', intOption(1))
    .option('--json', 'print as JSON')
    .action(async (id: number, o: { json?: boolean }) => {
      const config = loadConfig();
      const a = await withLocalStore(config, { create: false }, (s) => s.approvals.get(id));
      if (!a) throw new Error(`no approval #${id}`);
      console.log(o.json ? json(a) : renderApproval(a));
    });

  ap.command('allow')
    .description('allow it this once (--always: and write the rule, raise the cap, add the sender)')
    .argument('<id>', 'approval id', intOption(1))
    .option('--always', 'allow from now on (visible and revocable: clawpod approvals rules)')
    .option('--json', 'print as JSON')
    .action(async (id: number, o: { always?: boolean; json?: boolean }) => {
      const a = await decide(loadConfig(), id, o.always ? 'always' : 'once');
      console.log(o.json ? json(a) : decidedText(a));
    });

  ap.command('deny')
    .description('deny it (the agent is told; a budget skip ends the run as not run)')
    .argument('<id>', 'approval id', intOption(1))
    .option('--json', 'print as JSON')
    .action(async (id: number, o: { json?: boolean }) => {
      const a = await decide(loadConfig(), id, 'deny');
      console.log(o.json ? json(a) : decidedText(a));
    });

  ap.command('rules')
    .description("the owner's rules (written by `always` answers or the API), live ones")
    .option('--group <group>', 'only this group')
    .option('--json', 'print as JSON')
    .action(async (o: { group?: string; json?: boolean }) => {
      const config = loadConfig();
      const rules = await withLocalStore(config, { create: false }, (s) =>
        s.guardRules.live(o.group),
      );
      console.log(o.json ? json(rules) : renderRules(rules));
    });

  ap.command('revoke')
    .description("revoke one of the owner's rules (the defaults apply again)")
    .argument('<rule>', 'rule id (from approvals rules)', intOption(1))
    .action(async (id: number) => {
      const config = loadConfig();
      const client = ApiClient.fromConfig(config);
      if (await client.probe(1500)) await client.revokeRule(id);
      else
        await withLocalStore(config, { create: false }, (s) => {
          if (!s.guardRules.revoke(id, Date.now())) throw new Error(`no live rule #${id}`);
        });
      console.log(`rule #${id} revoked`);
    });
}
