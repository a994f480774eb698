import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { HistorySearchError } from '../../memory/errors.js';
import {
  HistorySearch,
  parseWhen,
  type HistoryHit,
  type HistoryResult,
} from '../../memory/history-search.js';
import { json, oneLine, table } from '../format.js';
import { intOption, withLocalStore } from '../local.js';
import { UsageError } from '../usage-error.js';

interface SearchOptions {
  group?: string;
  chat?: string;
  since?: string;
  until?: string;
  limit: number;
  json?: boolean;
}

/** Who said or did it: `alice`, `assistant`, `run reply`, `run prompt`… */
function who(h: HistoryHit): string {
  if (h.source === 'run') return `run ${h.role}`;
  return `${h.sender ?? '?'}${h.excluded ? ' (record only)' : ''}`;
}

/** The hits, newest first, one line each with the ids to look further. Pure. */
export function renderHits(res: HistoryResult): string {
  if (!res.hits.length)
    return `nothing found for ${res.query}${res.scope.group ? ` in group ${res.scope.group}` : ''}`;
  return table(
    ['DATE', 'GROUP', 'CHAT', 'ID', 'WHO', 'SNIPPET'],
    res.hits.map((h) => [
      h.date.slice(0, 16).replace('T', ' '),
      h.group ?? '-',
      h.chat ?? '-',
      h.seq !== undefined ? `#${h.seq}` : h.runId!,
      who(h),
      oneLine(h.snippet, 100),
    ]),
  );
}

/** `clawpod history search "<query>"`: the owner's search over every chat and run. */
export function registerHistory(program: Command): void {
  const history = program
    .command('history')
    .description('search what was said in every chat and done in every run');

  history
    .command('search <query...>')
    .description(
      'newest first; words all match (case and accents ignored), "exact phrase", prefix*, a OR b, -leave_out',
    )
    .option('--group <group>', "only this group's chats and runs")
    .option('--chat <chat>', 'only this chat (and its threads)')
    .option(
      '--since <when>',
      'from: ISO date or time (2026-05-01, 2026-05-01T09:00) or an age (7d)',
    )
    .option('--until <when>', 'up to: ISO date or time (a date counts whole) or an age')
    .option('-n, --limit <n>', 'how many hits (at most 100)', intOption(1), 20)
    .option('--json', 'print as JSON')
    .action(async (words: string[], o: SearchOptions) => {
      const config = loadConfig();
      const res = await withLocalStore(config, { create: false }, (store) => {
        const now = Date.now();
        const at = (v: string | undefined, endOfDay = false) =>
          v === undefined ? undefined : parseWhen(v, config.timezone, now, { endOfDay });
        return new HistorySearch({ store, timezone: config.timezone }).search(
          { kind: 'owner', group: o.group },
          {
            query: words.join(' '),
            chat: o.chat,
            since: at(o.since),
            until: at(o.until, true),
            limit: Math.min(o.limit, 100),
          },
        );
      }).catch((err: unknown) => {
        if (err instanceof HistorySearchError && err.code !== 'not_found')
          throw new UsageError(err.message);
        throw err;
      });
      console.log(o.json ? json(res) : renderHits(res));
    });
}
