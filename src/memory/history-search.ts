import { ScheduleError } from '../schedule/errors.js';
import { parseIsoTime } from '../schedule/once.js';
import { isoInZone } from '../schedule/time-zone.js';
import type { Store } from '../store/store.js';
import { chatToken, groupToken, type SearchFilter } from '../store/search.js';
import { HistorySearchError } from './errors.js';
import { parseQuery } from './search-query.js';

/** Results per search unless asked otherwise, and at most. */
export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;

/**
 * Who searches. An agent sees its own group's chats and runs (main: every chat and run, each
 * hit marked with its group), never messages kept only for the record. The owner (CLI, API)
 * sees everything, or one group's chats and runs when `group` is given.
 */
export type SearchViewer =
  { kind: 'agent'; group: string; isMain: boolean } | { kind: 'owner'; group?: string };

/** A search as asked. Times are ms; `since`/`until` are inclusive. */
export interface HistoryQuery {
  query: string;
  /** Only this chat (and its threads); it must be within the viewer's chats. */
  chat?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/**
 * One dated hit. `source: 'message'` is a stored chat message (`seq`, `direction`, `sender`);
 * `source: 'run'` a line of a run's transcript (`runId`, `role`). A delivered reply found both
 * ways is one hit with both `seq` and `runId`. `snippet` marks the matches with `**`.
 */
export interface HistoryHit {
  source: 'message' | 'run';
  /** Local time in the configured zone, ISO 8601 with offset. */
  date: string;
  ts: number;
  /** The group the chat belongs to now (a run: the group that ran it); null when unbound. */
  group: string | null;
  chat: string | null;
  snippet: string;
  seq?: number;
  direction?: 'in' | 'out';
  sender?: string;
  runId?: string;
  role?: 'prompt' | 'reply' | 'tool';
  /** Kept for the record only (a sender outside the allowlist); shown to the owner only. */
  excluded?: true;
}

export interface HistoryResult {
  query: string;
  /** What was searched: `all` chats, or the chats (with their threads) of one group. */
  scope: { group: string | null; chats: string[] | 'all' };
  hits: HistoryHit[];
}

/** What one search matches in the index: FTS5 conditions on `scope` beside the text. */
interface Scope {
  group: string | null;
  chats: string[] | 'all';
  /** Message condition on `scope`: '' for every chat, null for none (a group without chats). */
  messages: string | null;
  /** Transcript condition on `scope`, or '' for every run. */
  runs: string;
  includeExcluded: boolean;
}

/** Local time to the second (milliseconds are noise to a reader). */
const dateOf = (ts: number, zone: string) => isoInZone(Math.floor(ts / 1000) * 1000, zone);
const anyOf = (tokens: string[]) => `(${tokens.map((t) => `"${t}"`).join(' OR ')})`;
const parentOf = (chat: string) => (chat.includes('/') ? chat.slice(0, chat.indexOf('/')) : null);

/**
 * Searches what was said (messages, both directions) and done (run transcripts), newest first,
 * within what the viewer may see. Indexes whatever was stored since the last search first, so
 * nothing stored is ever missed.
 */
export class HistorySearch {
  constructor(private readonly deps: { store: Store; timezone: string }) {}

  search(viewer: SearchViewer, q: HistoryQuery): HistoryResult {
    const { store, timezone } = this.deps;
    const parsed = parseQuery(q.query);
    const limit = Math.min(Math.max(1, q.limit ?? DEFAULT_SEARCH_LIMIT), MAX_SEARCH_LIMIT);
    if (q.since !== undefined && q.until !== undefined && q.since > q.until)
      throw new HistorySearchError('invalid_query', 'since is after until: nothing can match');
    const bindings = new Map(
      store.groups.list().flatMap((g) => g.chats.map((c) => [c, g.folder] as const)),
    );
    const groupOf = (chat: string) =>
      bindings.get(chat) ?? (parentOf(chat) && bindings.get(parentOf(chat)!)) ?? null;
    const scope = this.scope(viewer, q.chat, bindings, groupOf);
    const text = `text : (${parsed.expression})`;
    const filter: SearchFilter = {
      since: q.since,
      until: q.until,
      includeExcluded: scope.includeExcluded,
      limit,
    };
    store.search.catchUp();
    const messages =
      scope.messages === null
        ? []
        : store.search.messages(scope.messages ? `${scope.messages} AND ${text}` : text, filter);
    const runs = store.search.transcripts(scope.runs ? `${scope.runs} AND ${text}` : text, filter);

    // A delivered reply is both an outbound message and a transcript line: show it once.
    const byReply = new Map<string, (typeof runs)[number]>();
    for (const r of runs)
      if (r.role === 'reply' && r.chatId) byReply.set(`${r.chatId}\n${r.text.trim()}`, r);
    const merged = new Set<number>();
    const hits: HistoryHit[] = messages.map((m) => {
      const run = m.direction === 'out' ? byReply.get(`${m.chatId}\n${m.text.trim()}`) : undefined;
      if (run) merged.add(run.id);
      return {
        source: 'message',
        date: dateOf(m.ts, timezone),
        ts: m.ts,
        group: groupOf(m.chatId),
        chat: m.chatId,
        snippet: m.snippet,
        seq: m.seq,
        direction: m.direction,
        sender: m.direction === 'out' ? 'assistant' : (m.senderName ?? m.sender),
        ...(run && { runId: run.runId, role: run.role }),
        ...(m.excluded && { excluded: true as const }),
      };
    });
    for (const r of runs) {
      if (merged.has(r.id)) continue;
      hits.push({
        source: 'run',
        date: dateOf(r.ts, timezone),
        ts: r.ts,
        group: r.group,
        chat: r.chatId,
        snippet: r.snippet,
        runId: r.runId,
        role: r.role,
      });
    }
    hits.sort((a, b) => b.ts - a.ts);
    return {
      query: parsed.terms.join(' '),
      scope: { group: scope.group, chats: scope.chats },
      hits: hits.slice(0, limit),
    };
  }

  private scope(
    viewer: SearchViewer,
    chat: string | undefined,
    bindings: Map<string, string>,
    groupOf: (chat: string) => string | null,
  ): Scope {
    const includeExcluded = viewer.kind === 'owner';
    const everything = viewer.kind === 'agent' ? viewer.isMain : viewer.group === undefined;
    if (everything) {
      if (!chat) return { group: null, chats: 'all', messages: '', runs: '', includeExcluded };
      const c = `scope : "${chatToken(chat)}"`;
      return { group: null, chats: [chat], messages: c, runs: c, includeExcluded };
    }
    const group = viewer.group!;
    if (viewer.kind === 'owner' && !this.deps.store.groups.get(group))
      throw new HistorySearchError('not_found', `no group "${group}" (clawpod groups list)`);
    const own = [...bindings].filter(([, g]) => g === group).map(([c]) => c);
    if (chat && groupOf(chat) !== group)
      throw new HistorySearchError(
        'forbidden',
        `chat ${chat} is not one of group "${group}"'s chats (${own.join(', ') || 'none'})`,
      );
    const chats = chat ? [chat] : own;
    if (!chats.length)
      return {
        group,
        chats,
        messages: null,
        runs: `scope : "${groupToken(group)}"`,
        includeExcluded,
      };
    // A thread bound to another group is that group's, though its parent is ours.
    const elsewhere = [...bindings]
      .filter(([c, g]) => g !== group && chats.includes(parentOf(c) ?? ''))
      .map(([c]) => chatToken(c));
    const inChats = `scope : ${anyOf(chats.map(chatToken))}`;
    const messages = elsewhere.length
      ? `(${inChats} NOT scope : ${anyOf(elsewhere)})`
      : `(${inChats})`;
    const runs = `scope : "${groupToken(group)}"` + (chat ? ` AND ${inChats}` : '');
    return { group, chats, messages, runs, includeExcluded };
  }
}

/**
 * Reads a `since`/`until` value: an ISO 8601 date or date-time (wall time in `zone` without an
 * offset; a date alone is its midnight, or with `endOfDay` its last millisecond), or an age such as `90m`, `12h`, `7d`, `2w` (that long
 * before `now`). Throws HistorySearchError('invalid_query') naming the accepted forms.
 */
export function parseWhen(
  value: string,
  zone: string,
  now: number,
  opts: { endOfDay?: boolean } = {},
): number {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (date && opts.endOfDay) {
    // `until 2026-05-01` takes in the whole day: up to the next midnight, exclusive.
    parseWhen(value, zone, now); // a date that does not exist is refused, not rolled over
    const next = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]! + 1));
    return parseWhen(next.toISOString().slice(0, 10), zone, now) - 1;
  }
  const age = /^(\d+)\s*(m|min|h|d|w)$/i.exec(value.trim());
  if (age) {
    const unit = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
      age[2]!.toLowerCase() as 'm' | 'min' | 'h' | 'd' | 'w'
    ];
    return now - Number(age[1]) * unit;
  }
  try {
    return parseIsoTime(value, zone);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    throw new HistorySearchError(
      'invalid_query',
      `"${value}" is not a time: give an ISO date or time (2026-05-01, 2026-05-01T09:00) or an age (12h, 7d, 2w)`,
    );
  }
}
