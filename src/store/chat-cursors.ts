import { stmt, type Db } from './db.js';

/**
 * One sequence cursor per chat: every human message of the chat at or below it is consumed
 * (answered, or context of an answer). It moves forward only, in the transaction that commits
 * the turn which consumed the messages. A chat's row exists from its first stored message.
 */
export class ChatCursorStore {
  constructor(private readonly db: Db) {}

  get(chatId: string): number {
    return (stmt(this.db, 'SELECT seq FROM chat_cursors WHERE chat_jid = ?').pluck().get(chatId) ??
      0) as number;
  }

  /** Creates the chat's cursor just below its first message (inside the intake transaction). */
  ensure(chatId: string, firstSeq: number): void {
    stmt(this.db, 'INSERT OR IGNORE INTO chat_cursors (chat_jid, seq) VALUES (?, ?)').run(
      chatId,
      firstSeq - 1,
    );
  }

  /** Moves the cursor forward only (never back). */
  advance(chatId: string, seq: number): void {
    stmt(
      this.db,
      `INSERT INTO chat_cursors (chat_jid, seq) VALUES (?, ?)
         ON CONFLICT(chat_jid) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
    ).run(chatId, seq);
  }

  /** A chat bound now starts from now: what it said while unbound is history, not a prompt. */
  skipToLatest(chatId: string): void {
    stmt(
      this.db,
      `INSERT INTO chat_cursors (chat_jid, seq)
         VALUES (@chat, COALESCE((SELECT MAX(seq) FROM messages WHERE chat_jid = @chat), 0))
         ON CONFLICT(chat_jid) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
    ).run({ chat: chatId });
  }
}
