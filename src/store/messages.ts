import { stmt, type Db } from './db.js';

export interface StoredMessage {
  seq: number;
  chatId: string;
  platformId: string;
  direction: 'in' | 'out';
  sender: string;
  senderName: string | null;
  text: string;
  ts: number;
  replyTo: string | null;
  isBot: boolean;
  /** The platform addressed the bot natively (an @mention): counts as the trigger. */
  mentioned: boolean;
  /**
   * Decided once at intake: this message wakes its group's agent (trigger, mention, or a
   * trigger-free chat, from an allowed sender). Others are context. Null only for messages
   * stored by a version before this field, until the next start decides them.
   */
  wakes: boolean | null;
  /** A complete request of its own (a mail): answered in its own turn, never batched. */
  standalone: boolean;
}

export interface InboundMessage {
  chatId: string;
  /** The platform's own id; with the chat it makes a message unique (redelivery is a no-op). */
  platformId: string;
  sender: string;
  senderName?: string | null;
  text: string;
  ts: number;
  replyTo?: string | null;
  /** Set by adapters for messages the bot itself authored; these never enter a prompt. */
  isBot?: boolean;
  mentioned?: boolean;
  /** Kept for the record only (a sender outside the group's allowlist): never in a prompt. */
  excluded?: boolean;
  /** Wakes the chat's group (decided by the router at intake). */
  wakes?: boolean;
  /** Set by channels whose every message is a complete request (email). */
  standalone?: boolean;
}

interface Row {
  seq: number;
  chat_jid: string;
  platform_id: string;
  direction: 'in' | 'out';
  sender: string;
  sender_name: string | null;
  text: string;
  ts: number;
  reply_to: string | null;
  is_bot: number;
  mentioned: number;
  wakes: number | null;
  standalone: number;
}

const toMessage = (r: Row): StoredMessage => ({
  seq: r.seq,
  chatId: r.chat_jid,
  platformId: r.platform_id,
  direction: r.direction,
  sender: r.sender,
  senderName: r.sender_name,
  text: r.text,
  ts: r.ts,
  replyTo: r.reply_to,
  isBot: r.is_bot === 1,
  mentioned: r.mentioned === 1,
  wakes: r.wakes === null ? null : r.wakes === 1,
  standalone: r.standalone === 1,
});

/** Human messages that may enter a prompt. */
const HUMAN = "m.direction = 'in' AND m.is_bot = 0 AND m.excluded = 0";

/**
 * The message log. `seq` is monotonic and the only cursor anything uses; each chat's cursor
 * (ChatCursorStore) says what of it is consumed.
 */
export class MessageStore {
  private readonly insertStmt;
  private readonly findStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO messages (chat_jid, platform_id, direction, sender, sender_name, text, ts, reply_to, is_bot, mentioned, excluded, wakes, standalone)
       VALUES (@chatId, @platformId, @direction, @sender, @senderName, @text, @ts, @replyTo, @isBot, @mentioned, @excluded, @wakes, @standalone)
       ON CONFLICT (chat_jid, direction, platform_id) DO NOTHING`,
    );
    this.findStmt = db.prepare(
      'SELECT seq FROM messages WHERE chat_jid = ? AND direction = ? AND platform_id = ?',
    );
  }

  /** Stores a message once. Returns its seq and whether this call inserted it. */
  insert(msg: InboundMessage, direction: 'in' | 'out' = 'in'): { seq: number; inserted: boolean } {
    const info = this.insertStmt.run({
      chatId: msg.chatId,
      platformId: msg.platformId,
      direction,
      sender: msg.sender,
      senderName: msg.senderName ?? null,
      text: msg.text,
      ts: msg.ts,
      replyTo: msg.replyTo ?? null,
      isBot: msg.isBot || direction === 'out' ? 1 : 0,
      mentioned: msg.mentioned ? 1 : 0,
      excluded: msg.excluded ? 1 : 0,
      wakes: msg.wakes && direction === 'in' ? 1 : 0,
      standalone: msg.standalone ? 1 : 0,
    });
    if (info.changes > 0) return { seq: Number(info.lastInsertRowid), inserted: true };
    const row = this.findStmt.get(msg.chatId, direction, msg.platformId) as { seq: number };
    return { seq: row.seq, inserted: false };
  }

  get(seq: number): StoredMessage | undefined {
    const row = stmt(this.db, 'SELECT * FROM messages WHERE seq = ?').get(seq) as Row | undefined;
    return row && toMessage(row);
  }

  /** Human messages of one chat after its cursor, oldest first: the next turn's batch. */
  pendingForChat(chatId: string): StoredMessage[] {
    const rows = stmt(
      this.db,
      `SELECT m.* FROM messages m
         WHERE m.chat_jid = @chat AND ${HUMAN}
           AND m.seq > COALESCE((SELECT seq FROM chat_cursors WHERE chat_jid = @chat), 0)
         ORDER BY m.seq`,
    ).all({ chat: chatId }) as Row[];
    return rows.map(toMessage);
  }

  /** Human messages of one chat in a seq range (a dead-lettered batch, replayed). */
  range(chatId: string, fromSeq: number, toSeq: number): StoredMessage[] {
    const rows = stmt(
      this.db,
      `SELECT m.* FROM messages m WHERE m.chat_jid = ? AND ${HUMAN} AND m.seq BETWEEN ? AND ? ORDER BY m.seq`,
    ).all(chatId, fromSeq, toSeq) as Row[];
    return rows.map(toMessage);
  }

  /** Chats with a pending message that wakes its group (after a restart), oldest first. */
  chatsWithWork(): string[] {
    return stmt(
      this.db,
      `SELECT m.chat_jid FROM messages m JOIN chat_cursors c ON c.chat_jid = m.chat_jid
         WHERE m.seq > c.seq AND m.wakes = 1 AND ${HUMAN}
         GROUP BY m.chat_jid ORDER BY MIN(m.seq)`,
    )
      .pluck()
      .all() as string[];
  }

  /** Pending messages whose wake was never decided (stored by an older version). */
  undecided(): StoredMessage[] {
    return (
      stmt(
        this.db,
        `SELECT m.* FROM messages m WHERE m.wakes IS NULL ORDER BY m.seq`,
      ).all() as Row[]
    ).map(toMessage);
  }

  /**
   * Lets stored messages of one sender in one chat into the conversation after all (an
   * unknown sender the owner approved): no longer excluded, and they wake. Returns how many.
   */
  admitSender(chatId: string, sender: string, sinceSeq: number): number {
    return stmt(
      this.db,
      `UPDATE messages SET excluded = 0, wakes = 1
         WHERE chat_jid = ? AND sender = ? AND direction = 'in' AND excluded = 1 AND seq >= ?
           AND seq > COALESCE((SELECT seq FROM chat_cursors WHERE chat_jid = messages.chat_jid), 0)`,
    ).run(chatId, sender, sinceSeq).changes;
  }

  /** Whether any of `senders` has written in `chatId` (is the owner in this chat?). */
  hasSenderIn(chatId: string, senders: readonly string[]): boolean {
    if (!senders.length) return false;
    const marks = senders.map(() => '?').join(', ');
    return (
      stmt(
        this.db,
        `SELECT 1 FROM messages WHERE chat_jid = ? AND direction = 'in' AND sender IN (${marks}) LIMIT 1`,
      ).get(chatId, ...senders) !== undefined
    );
  }

  /** Of `chats`, the one where one of `senders` wrote last; null when none has. */
  lastChatOfSenders(chats: readonly string[], senders: readonly string[]): string | null {
    let best: { chat: string; seq: number } | null = null;
    for (const chat of chats) {
      if (!senders.length) break;
      const marks = senders.map(() => '?').join(', ');
      const row = stmt(
        this.db,
        `SELECT seq FROM messages WHERE chat_jid = ? AND direction = 'in' AND sender IN (${marks})
           ORDER BY seq DESC LIMIT 1`,
      ).get(chat, ...senders) as { seq: number } | undefined;
      if (row && (!best || row.seq > best.seq)) best = { chat, seq: row.seq };
    }
    return best?.chat ?? null;
  }

  setWakes(seq: number, wakes: boolean): void {
    stmt(this.db, 'UPDATE messages SET wakes = ? WHERE seq = ?').run(wakes ? 1 : 0, seq);
  }

  /** Pending human messages per chat of `chats` (status). */
  pendingCount(chats: string[]): number {
    let n = 0;
    for (const chat of chats) {
      n += stmt(
        this.db,
        `SELECT COUNT(*) FROM messages m WHERE ${HUMAN}
           AND (m.chat_jid = @chat OR (m.chat_jid >= @chat || '/' AND m.chat_jid < @chat || '0'))
           AND m.seq > COALESCE((SELECT seq FROM chat_cursors c WHERE c.chat_jid = m.chat_jid), 0)`,
      )
        .pluck()
        .get({ chat }) as number;
    }
    return n;
  }

  /** Messages of one chat after `afterSeq` in both directions, oldest first. */
  listChat(chatId: string, afterSeq: number, limit = 500): StoredMessage[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM messages WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ?',
    ).all(chatId, afterSeq, limit) as Row[];
    return rows.map(toMessage);
  }

  count(): number {
    return stmt(this.db, 'SELECT COUNT(*) FROM messages').pluck().get() as number;
  }
}
