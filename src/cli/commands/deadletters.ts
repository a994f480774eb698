import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../../config/load.js';
import {
  DeadLetterError,
  DeadLetterService,
  type DeadLetterDetail,
} from '../../delivery/dead-letter-service.js';
import type { DeadLetter } from '../../store/dead-letters.js';
import { ApiClient, ApiError } from '../api-client.js';
import { formatTime, json, oneLine, table } from '../format.js';
import { intOption, withLocalStore } from '../local.js';
import { UsageError } from '../usage-error.js';

/** A bad id or filter is a usage error (exit 2); anything else a failure (exit 1). */
function rethrow(err: unknown): never {
  if (err instanceof DeadLetterError && err.code === 'invalid') throw new UsageError(err.message);
  if (err instanceof ApiError && err.status === 400) throw new UsageError(err.message);
  throw err;
}

/**
 * Runs `fn` on the database through a DeadLetterService. Without a daemon nothing can re-run
 * a run: such a retry says to start the daemon. A retried reply is delivered at the next start.
 */
function withService<T>(config: Config, fn: (s: DeadLetterService) => T | Promise<T>): Promise<T> {
  return withLocalStore(config, { create: false }, (store) =>
    fn(
      new DeadLetterService({
        store,
        retryRun: () => {
          throw new DeadLetterError(
            'not_supported',
            'retrying a run needs the running daemon (clawpod start)',
          );
        },
      }),
    ),
  ).catch(rethrow);
}

const what = (d: DeadLetter) =>
  d.kind === 'outbox'
    ? `reply to ${d.chatId ?? '?'}`
    : d.seqStart !== null
      ? `run of ${d.group ?? '?'} (messages ${d.seqStart}–${d.seqEnd ?? '?'})`
      : `task run of ${d.group ?? '?'}`;

/** The dead-letter table, newest first. Pure. */
export function renderDeadLetters(list: DeadLetter[], status: string): string {
  if (!list.length)
    return status === 'all'
      ? 'no dead letters'
      : `no ${status} dead letters (--all shows every one)`;
  return table(
    ['ID', 'CREATED', 'KIND', 'STATUS', 'GROUP', 'WHAT', 'ERROR'],
    list.map((d) => [
      `#${d.id}`,
      formatTime(d.createdAt),
      d.kind,
      d.status,
      d.group ?? '-',
      what(d),
      oneLine(d.error, 60),
    ]),
  );
}

/** Every field of one dead letter, with its reply or its messages, and what can be done. Pure. */
export function renderDeadLetter(d: DeadLetterDetail): string {
  const lines = [
    `id:        #${d.id}`,
    `kind:      ${d.kind} (${what(d)})`,
    `status:    ${d.status}${d.decidedAt ? ` at ${formatTime(d.decidedAt)}` : ''}`,
    `group:     ${d.group ?? '-'}`,
    `chat:      ${d.chatId ?? '-'}`,
    `ref:       ${d.ref}`,
    `created:   ${formatTime(d.createdAt)}`,
    `error:     ${d.error}`,
  ];
  if (d.reply !== undefined) {
    if (d.reply === null) lines.push('reply:     (no longer in the outbox)');
    else {
      lines.push(`reply:     ${d.reply.status} after ${d.reply.attempts} attempts`);
      if (d.reply.files.length) lines.push(`files:     ${d.reply.files.join(', ')}`);
      lines.push('', d.reply.text);
    }
  }
  if (d.messages?.length) {
    lines.push('', 'messages:');
    for (const m of d.messages)
      lines.push(`  ${m.seq} ${formatTime(m.ts)} ${m.chat} ${m.sender}: ${oneLine(m.text, 100)}`);
  }
  if (d.status === 'pending')
    lines.push('', `clawpod deadletters retry ${d.id}   |   clawpod deadletters discard ${d.id}`);
  return lines.join('\n');
}

/**
 * A decision goes through the running daemon's API when one answers (it wakes the outbox or
 * queues the run at once); without a daemon it is written to the database.
 */
async function decide(
  config: Config,
  id: number,
  decision: 'retry' | 'discard',
): Promise<DeadLetter> {
  const client = ApiClient.fromConfig(config);
  if (await client.probe(1500)) return client.decideDeadLetter(id, decision).catch(rethrow);
  return withService(config, (s) => (decision === 'retry' ? s.retry(id) : s.discard(id)));
}

/** `clawpod deadletters list|show|retry|discard`. */
export function registerDeadLetters(program: Command): void {
  const dl = program
    .command('deadletters')
    .description('work that failed every retry: list, show, retry or discard it');

  dl.command('list', { isDefault: true })
    .description('dead letters, newest first (pending ones unless --status/--all)')
    .addOption(
      new Option('--status <status>', 'which ones')
        .choices(['pending', 'retried', 'discarded', 'all'])
        .default('pending'),
    )
    .option('--all', 'every dead letter (same as --status all)')
    .option('-n, --limit <n>', 'how many', intOption(1), 50)
    .option('--json', 'print as JSON')
    .action(async (opts: { status: string; all?: boolean; limit: number; json?: boolean }) => {
      const config = loadConfig();
      const status = opts.all ? 'all' : opts.status;
      const list = await withService(config, (s) => s.list({ status, limit: opts.limit }));
      console.log(opts.json ? json(list) : renderDeadLetters(list, status));
    });

  dl.command('show')
    .description('one dead letter in full: the reply or the messages, the error')
    .argument('<id>', 'dead letter id (from list)', intOption(1))
    .option('--json', 'print as JSON')
    .action(async (id: number, opts: { json?: boolean }) => {
      const config = loadConfig();
      const d = await withService(config, (s) => s.get(id));
      console.log(opts.json ? json(d) : renderDeadLetter(d));
    });

  dl.command('retry')
    .description('try again: a reply goes back to the outbox (delivered once)')
    .argument('<id>', 'dead letter id (from list)', intOption(1))
    .option('--json', 'print as JSON')
    .action(async (id: number, opts: { json?: boolean }) => {
      const config = loadConfig();
      const d = await decide(config, id, 'retry');
      console.log(
        opts.json ? json(d) : `dead letter #${d.id} retried: the ${what(d)} is queued again`,
      );
    });

  dl.command('discard')
    .description('drop it for good (kept on record as discarded)')
    .argument('<id>', 'dead letter id (from list)', intOption(1))
    .option('--json', 'print as JSON')
    .action(async (id: number, opts: { json?: boolean }) => {
      const config = loadConfig();
      const d = await decide(config, id, 'discard');
      console.log(opts.json ? json(d) : `dead letter #${d.id} discarded`);
    });
}
