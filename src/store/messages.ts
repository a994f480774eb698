import type { Db } from './db.js';

export interface StoredMessage {
  seq: number;
  chatJid: string;
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
}

export interface InboundMessage {
  chatJid: string;
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
}

const toMessage = (r: Row): StoredMessage => ({
  seq: r.seq,
  chatJid: r.chat_jid,
  platformId: r.platform_id,
  direction: r.direction,
  sender: r.sender,
  senderName: r.sender_name,
  text: r.text,
  ts: r.ts,
  replyTo: r.reply_to,
  isBot: r.is_bot === 1,
  mentioned: r.mentioned === 1,
});

/** The message log. `seq` is monotonic and the only cursor anything uses. */
export class MessageStore {
  private readonly insertStmt;
  private readonly findStmt;
  private readonly pendingStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO messages (chat_jid, platform_id, direction, sender, sender_name, text, ts, reply_to, is_bot, mentioned, excluded)
       VALUES (@chatJid, @platformId, @direction, @sender, @senderName, @text, @ts, @replyTo, @isBot, @mentioned, @excluded)
       ON CONFLICT (chat_jid, direction, platform_id) DO NOTHING`,
    );
    this.findStmt = db.prepare(
      'SELECT seq FROM messages WHERE chat_jid = ? AND direction = ? AND platform_id = ?',
    );
    // A sub-chat `<chat>/<sub>` (a Slack thread) without a binding of its own belongs to `<chat>`'s
    // group, as in GroupStore.groupForChat: its ids sort between `<chat>/` and `<chat>0`.
    const human = "m.seq > @after AND m.direction = 'in' AND m.is_bot = 0 AND m.excluded = 0";
    this.pendingStmt = db.prepare(
      `SELECT m.* FROM chat_bindings b JOIN messages m ON m.chat_jid = b.chat_jid
       WHERE b.group_folder = @folder AND ${human}
       UNION ALL
       SELECT m.* FROM chat_bindings b JOIN messages m
         ON m.chat_jid >= b.chat_jid || '/' AND m.chat_jid < b.chat_jid || '0'
       WHERE b.group_folder = @folder AND instr(b.chat_jid, '/') = 0 AND ${human}
         AND NOT EXISTS (SELECT 1 FROM chat_bindings x WHERE x.chat_jid = m.chat_jid)
       ORDER BY seq`,
    );
  }

  /** Stores a message once. Returns its seq and whether this call inserted it. */
  insert(msg: InboundMessage, direction: 'in' | 'out' = 'in'): { seq: number; inserted: boolean } {
    const info = this.insertStmt.run({
      chatJid: msg.chatJid,
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
    });
    if (info.changes > 0) return { seq: Number(info.lastInsertRowid), inserted: true };
    const row = this.findStmt.get(msg.chatJid, direction, msg.platformId) as { seq: number };
    return { seq: row.seq, inserted: false };
  }

  get(seq: number): StoredMessage | undefined {
    const row = this.db.prepare('SELECT * FROM messages WHERE seq = ?').get(seq) as Row | undefined;
    return row && toMessage(row);
  }

  /** Human messages in the group's chats after `afterSeq`, oldest first (bot messages excluded). */
  pendingForGroup(folder: string, afterSeq: number): StoredMessage[] {
    return (this.pendingStmt.all({ folder, after: afterSeq }) as Row[]).map(toMessage);
  }

  /** Messages of one chat after `afterSeq` in both directions, oldest first. */
  listChat(chatJid: string, afterSeq: number, limit = 500): StoredMessage[] {
    const rows = this.db
      .prepare('SELECT * FROM messages WHERE chat_jid = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(chatJid, afterSeq, limit) as Row[];
    return rows.map(toMessage);
  }

  count(): number {
    return this.db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number;
  }
}
