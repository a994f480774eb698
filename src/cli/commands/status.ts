import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/load.js';
import { buildStatus, type DaemonStatus } from '../../status.js';
import { version } from '../../version.js';
import { ApiClient } from '../api-client.js';
import {
  formatAgo,
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  json,
  oneLine,
  runDuration,
  table,
} from '../format.js';
import { withLocalStore } from '../local.js';
import type { StorageReport } from '../../store/storage-health.js';

/** What `clawpod status` shows: the daemon's report plus where to reach it. */
export interface StatusReport {
  status: DaemonStatus;
  url: string;
  /** `http://host:port/#token=…` when the daemon runs and the token is readable. */
  dashboard: string | null;
}

/**
 * Asks the running daemon for its status; when none answers, builds the report straight
 * from the database (no model credentials or daemon needed).
 */
export async function collectStatus(
  config: Config,
  client = ApiClient.fromConfig(config),
): Promise<StatusReport> {
  if (await client.probe()) {
    const status = await client.status();
    return { status, url: client.baseUrl, dashboard: client.dashboardUrl() };
  }
  const status = await withLocalStore(config, { create: false }, (store) =>
    buildStatus({
      store,
      version,
      home: config.paths.home,
      runtime: { configured: config.file.runtime, selected: null, why: 'daemon not running' },
      harnesses: [],
    }),
  );
  return { status, url: client.baseUrl, dashboard: null };
}

function daemonLines(r: StatusReport, now: number): string[] {
  const d = r.status.daemon;
  if (!d.running) {
    return [
      `daemon:     not running (start it with \`clawpod start\`; it would listen at ${r.url})`,
      `home:       ${d.home}`,
    ];
  }
  const up = d.startedAt ? `, up ${formatDuration(now - d.startedAt)}` : '';
  return [
    `daemon:     running (pid ${d.pid ?? '?'}, v${d.version}${up}) at ${r.url}`,
    `dashboard:  ${r.dashboard ?? '(API token not readable)'}`,
    `home:       ${d.home}`,
  ];
}

/** The IPC line: files in errors/ (and its cap), repairs; then the groups behind them. */
function ipcLines(ipc: NonNullable<DaemonStatus['ipc']>): string[] {
  const out = [
    `ipc:        errors/ files ${ipc.errorsFiles} (cap ${ipc.errorsCap} per group), quarantined ${ipc.quarantined}, rotated out ${ipc.rotated}`,
  ];
  for (const g of ipc.groups.slice(0, 5))
    out.push(
      `  ${g.group}: errors/ ${g.errorsFiles}, quarantined ${g.quarantined}, rotated out ${g.rotated}`,
    );
  return out;
}

const problemName = { busy: 'database locked', disk_full: 'disk full', io: 'I/O error' } as const;

/** `storage:    ✓ ok` or what fails since when, with the message that says what to do. */
export function storageLine(st: StorageReport, now: number): string {
  if (st.ok) return 'storage:    ✓ ok';
  const what = st.problem ? problemName[st.problem] : 'failing';
  return `storage:    ✗ ${what} since ${formatTime(st.since)} (${formatAgo(st.since, now)}): ${st.lastError ?? ''}`;
}

/** Renders the human-readable status. Pure (for a given `now`). */
export function renderStatus(r: StatusReport, now = Date.now()): string {
  const s = r.status;
  const out = daemonLines(r, now);
  const selected = s.runtime.selected ? ` → ${s.runtime.selected}` : '';
  out.push(`runtime:    ${s.runtime.configured}${selected} (${s.runtime.why})`);
  if (s.daemon.running)
    out.push(`harnesses:  ${s.harnesses.length ? s.harnesses.join(', ') : 'none registered'}`);
  if (s.storage) out.push(storageLine(s.storage, now));

  out.push('', 'channels:');
  if (!s.channels.length)
    out.push(s.daemon.running ? '  (none connected)' : '  (only known while the daemon runs)');
  for (const c of s.channels) {
    const state = c.connected ? '✓ connected' : '✗ disconnected';
    const err = c.lastError ? `  error: ${oneLine(c.lastError, 100)}` : '';
    out.push(`  ${c.name.padEnd(10)} ${state}  last event ${formatAgo(c.lastEventAt, now)}${err}`);
  }

  out.push('', 'groups:');
  if (!s.groups.length)
    out.push('  (none yet; `clawpod start` creates main, `clawpod groups add` adds more)');
  else {
    out.push(
      table(
        ['  NAME', 'CHATS', 'PENDING'],
        s.groups.map((g) => [
          `  ${g.name}${g.isMain ? ' (main)' : ''}`,
          g.chats.join(', ') || '-',
          String(g.pendingMessages),
        ]),
      ),
    );
  }

  const q = s.queue;
  out.push(
    '',
    `queue:      running ${q.running}, pending ${q.pending}, waiting ${q.waiting}, backoff ${q.backoff}`,
  );
  // Live agent sessions, apart from runs: an idle session waits for follow-ups, runs nothing.
  const sessions = s.sessions ?? [];
  out.push(`sessions:   ${sessions.length ? '' : s.daemon.running ? 'none live' : '-'}`);
  for (const x of sessions) {
    const what =
      x.state === 'busy'
        ? `busy with ${x.runId ?? '?'} (${x.chat ?? '-'})`
        : x.state === 'idle'
          ? `idle ${formatAgo(x.idleSince, now).replace(/ ago$/, '')}`
          : x.state;
    out.push(
      `  ${x.group.padEnd(12)} ${x.harness.padEnd(8)} ${what}  started ${formatTime(x.startedAt)}`,
    );
  }
  const o = s.outbox;
  out.push(
    `outbox:     pending ${(o.pending ?? 0) + (o.sending ?? 0)}, sent ${o.sent ?? 0}, dead ${o.dead ?? 0}`,
  );
  const dl = s.deadLetters;
  out.push(
    dl.pending === undefined
      ? `dead letters: ${dl.count}`
      : `dead letters: ${dl.pending} pending (${dl.count} in all)${dl.pending ? ' — clawpod deadletters list' : ''}`,
  );
  if (s.ipc) out.push(...ipcLines(s.ipc));
  for (const d of dl.recent.filter((x) => (x.status ?? 'pending') === 'pending').slice(0, 5)) {
    out.push(
      `  #${d.id} ${formatTime(d.createdAt)} ${d.kind} ${d.group ?? '-'} ${d.chatId ?? ''}: ${oneLine(d.error, 100)}`,
    );
  }

  if (s.tasks) {
    const byStatus = Object.entries(s.tasks.byStatus).map(([k, n]) => `${k} ${n}`);
    out.push('', `tasks:      ${byStatus.length ? byStatus.join(', ') : 'none'}`);
    for (const t of s.tasks.due) {
      out.push(
        `  next ${t.nextRun}  ${t.id} (${t.group}) ${t.description}${t.running ? ' [running]' : ''}`,
      );
    }
  }

  const counts = Object.entries(s.runs.byStatus).map(([k, n]) => `${k} ${n}`);
  out.push('', `runs:       ${counts.length ? counts.join(', ') : 'none yet'}`);
  if (s.runs.recent.length) {
    out.push(
      table(
        ['  STARTED', 'GROUP', 'STATUS', 'DURATION', 'TOKENS', 'COST', 'ERROR'],
        s.runs.recent
          .slice(0, 5)
          .map((run) => [
            `  ${formatTime(run.startedAt)}`,
            run.group,
            run.status,
            formatDuration(runDuration(run, now)),
            formatTokens(run),
            formatCost(run.usage?.costUsd),
            oneLine(run.error, 60),
          ]),
      ),
    );
  }
  return out.join('\n');
}

/** `clawpod status [--json]`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('daemon, runtime, channels, groups, queue, outbox, dead letters, recent runs')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const report = await collectStatus(config);
      if (opts.json) console.log(json({ ...report.status, url: report.url }));
      else console.log(renderStatus(report));
    });
}
