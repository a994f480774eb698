import Database from 'better-sqlite3';
import { stmt, type Db } from './db.js';

/** A search expression SQLite's FTS5 refused (the caller built it from user input). */
export class SearchExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchExpressionError';
  }
}

/** What bounds a search besides its FTS5 expression. */
export interface SearchFilter {
  /** Earliest and latest time (ms), inclusive. */
  since?: number;
  until?: number;
  /** Also messages kept for the record only (senders outside a group's allowlist). */
  includeExcluded: boolean;
  limit: number;
}

/** A message that matched, newest first. `snippet` marks the matches with `**`. */
export interface MessageMatch {
  seq: number;
  chatId: string;
  direction: 'in' | 'out';
  sender: string;
  senderName: string | null;
  ts: number;
  excluded: boolean;
  text: string;
  snippet: string;
}

/** A run transcript line that matched, newest first. */
export interface TranscriptMatch {
  id: number;
  runId: string;
  group: string;
  chatId: string | null;
  role: 'prompt' | 'reply' | 'tool';
  ts: number;
  text: string;
  snippet: string;
}

/** Rows one catch-up transaction indexes at most per source. */
export const INDEX_BATCH_ROWS = 2000;

/** Scope tokens as the index stores them (see migration 10): hex of the UTF-8 bytes. */
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
/** The token of messages in `chat` (and, for a chat without `/`, in its threads). */
export const chatToken = (chat: string): string => `c${hex(chat)}`;
/** The token of a group's run transcripts. */
export const groupToken = (folder: string): string => `g${hex(folder)}`;

const SOURCES = {
  messages: { fts: 'messages_fts', view: 'messages_search_source', key: 'seq' },
  run_transcripts: { fts: 'run_transcripts_fts', view: 'run_transcripts_search_source', key: 'id' },
} as const;
type Source = keyof typeof SOURCES;

/**
 * Full-text indexes of messages and run transcripts (SQLite FTS5). Rows are indexed in
 * batches past a mark kept in the same database (`search_index_state`), not one by one as
 * they are written: a one-row FTS5 write per stored message would cost intake about as much
 * again as the message itself. Every search first calls catchUp, so a search always sees every
 * stored row; the daemon also catches up shortly after writes (memory/search-indexer.ts).
 */
export class SearchStore {
  constructor(private readonly db: Db) {}

  /**
   * Indexes every row stored past the marks, in transactions of at most `batch` rows per
   * source (each writes the rows and moves its mark together, so a crash loses nothing).
   * `maxBatches` bounds the work of one call. Returns how many rows were indexed.
   */
  catchUp(opts: { batch?: number; maxBatches?: number } = {}): number {
    const batch = opts.batch ?? INDEX_BATCH_ROWS;
    let total = 0;
    for (const source of Object.keys(SOURCES) as Source[]) {
      for (let i = 0; i < (opts.maxBatches ?? Infinity); i++) {
        const n = this.indexBatch(source, batch);
        total += n;
        if (n < batch) break;
      }
    }
    return total;
  }

  /** Rows stored but not yet indexed, per source. */
  backlog(): { messages: number; transcripts: number } {
    const behind = (source: Source) => {
      const { view, key } = SOURCES[source];
      return stmt(
        this.db,
        `SELECT COUNT(*) FROM ${view} WHERE ${key} > (SELECT indexed_through FROM search_index_state WHERE source = ?)`,
      )
        .pluck()
        .get(source) as number;
    };
    return { messages: behind('messages'), transcripts: behind('run_transcripts') };
  }

  private indexBatch(source: Source, batch: number): number {
    const { fts, view, key } = SOURCES[source];
    // Nothing new (the usual case for a search): no write transaction, no lock taken.
    const table = source === 'messages' ? 'messages' : 'run_transcripts';
    const behind = stmt(
      this.db,
      `SELECT (SELECT MAX(${key}) FROM ${table}) > indexed_through FROM search_index_state WHERE source = ?`,
    )
      .pluck()
      .get(source) as number | null;
    if (!behind) return 0;
    const run = this.db.transaction(() => {
      const from = stmt(this.db, 'SELECT indexed_through FROM search_index_state WHERE source = ?')
        .pluck()
        .get(source) as number;
      const to = stmt(
        this.db,
        `SELECT MAX(${key}) FROM (SELECT ${key} FROM ${view} WHERE ${key} > ? ORDER BY ${key} LIMIT ?)`,
      )
        .pluck()
        .get(from, batch) as number | null;
      if (to === null) return 0;
      const added = stmt(
        this.db,
        `INSERT INTO ${fts} (rowid, text, scope) SELECT ${key}, text, scope FROM ${view} WHERE ${key} > ? AND ${key} <= ?`,
      ).run(from, to).changes;
      stmt(this.db, 'UPDATE search_index_state SET indexed_through = ? WHERE source = ?').run(
        to,
        source,
      );
      return added;
    });
    // IMMEDIATE: a second process catching up at the same time waits instead of indexing twice.
    return run.immediate();
  }

  /** Messages matching the FTS5 expression `match`, newest first. */
  messages(match: string, f: SearchFilter): MessageMatch[] {
    const rows = this.run(
      `SELECT m.seq, m.chat_jid, m.direction, m.sender, m.sender_name, m.ts, m.excluded, m.text,
              snippet(messages_fts, 0, '**', '**', '…', 16) AS snippet
         FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
        WHERE messages_fts MATCH @match AND m.ts >= @since AND m.ts <= @until
          AND (@excluded = 1 OR m.excluded = 0)
        ORDER BY messages_fts.rowid DESC LIMIT @limit`,
      match,
      f,
    ) as Array<{
      seq: number;
      chat_jid: string;
      direction: 'in' | 'out';
      sender: string;
      sender_name: string | null;
      ts: number;
      excluded: number;
      text: string;
      snippet: string;
    }>;
    return rows.map((r) => ({
      seq: r.seq,
      chatId: r.chat_jid,
      direction: r.direction,
      sender: r.sender,
      senderName: r.sender_name,
      ts: r.ts,
      excluded: r.excluded === 1,
      text: r.text,
      snippet: r.snippet,
    }));
  }

  /** Run transcript lines matching the FTS5 expression `match`, newest first. */
  transcripts(match: string, f: SearchFilter): TranscriptMatch[] {
    const rows = this.run(
      `SELECT t.id, t.run_id, t.group_folder, t.chat_jid, t.role, t.ts, t.text,
              snippet(run_transcripts_fts, 0, '**', '**', '…', 16) AS snippet
         FROM run_transcripts_fts JOIN run_transcripts t ON t.id = run_transcripts_fts.rowid
        WHERE run_transcripts_fts MATCH @match AND t.ts >= @since AND t.ts <= @until
        ORDER BY run_transcripts_fts.rowid DESC LIMIT @limit`,
      match,
      f,
    ) as Array<{
      id: number;
      run_id: string;
      group_folder: string;
      chat_jid: string | null;
      role: TranscriptMatch['role'];
      ts: number;
      text: string;
      snippet: string;
    }>;
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      group: r.group_folder,
      chatId: r.chat_jid,
      role: r.role,
      ts: r.ts,
      text: r.text,
      snippet: r.snippet,
    }));
  }

  private run(sql: string, match: string, f: SearchFilter): unknown[] {
    try {
      return stmt(this.db, sql).all({
        match,
        since: f.since ?? Number.MIN_SAFE_INTEGER,
        until: f.until ?? Number.MAX_SAFE_INTEGER,
        excluded: f.includeExcluded ? 1 : 0,
        limit: f.limit,
      });
    } catch (err) {
      if (err instanceof Database.SqliteError && /fts5|MATCH/i.test(err.message))
        throw new SearchExpressionError(err.message);
      throw err;
    }
  }
}
