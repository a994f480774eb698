import { stmt, type Db } from './db.js';

/**
 * Read-only views the Control UI and its API routes need beyond the table stores: the chat list
 * with each chat's last message, a chat's latest page, messages after a sequence number across
 * chats (event-stream resume), a run's replies. Nothing here writes.
 */

/** A chat with its bound group and its last message (for the chat list). */
export interface ChatOverview {
  jid: string;
  channel: string;
  name: string | null;
  kind: 'group' | 'direct';
  group: string | null;
  lastSeen: number;
  last: { seq: number; direction: 'in' | 'out'; sender: string; text: string; ts: number } | null;
}

/** A message as the API shows it: `sender` is "assistant" for replies. */
export interface MessageView {
  seq: number;
  chat: string;
  direction: 'in' | 'out';
  sender: string;
  text: string;
  ts: number;
}

interface MessageRow {
  seq: number;
  chat_jid: string;
  direction: 'in' | 'out';
  sender: string;
  sender_name: string | null;
  text: string;
  ts: number;
}

const toView = (r: MessageRow): MessageView => ({
  seq: r.seq,
  chat: r.chat_jid,
  direction: r.direction,
  sender: r.direction === 'out' ? 'assistant' : (r.sender_name ?? r.sender),
  text: r.text,
  ts: r.ts,
});

/** The read-only views over messages, chats and the outbox; one per Store (`store.views`). */
export class ViewStore {
  constructor(private readonly db: Db) {}

  /** Every chat seen (bound ones and bound-but-silent ones too), most recent first. */
  chatOverview(): ChatOverview[] {
    const rows = stmt(
      this.db,
      `SELECT c.jid, c.channel, c.name, c.kind, c.last_seen, b.group_folder,
              m.seq, m.direction, m.sender, m.sender_name, m.text, m.ts
         FROM (SELECT jid, channel, name, kind, last_seen FROM chats
               UNION ALL
               SELECT chat_jid, substr(chat_jid, 1, instr(chat_jid, ':') - 1), NULL, 'group', 0
                 FROM chat_bindings WHERE chat_jid NOT IN (SELECT jid FROM chats)) c
         LEFT JOIN chat_bindings b ON b.chat_jid = c.jid
         LEFT JOIN messages m ON m.seq = (SELECT MAX(seq) FROM messages WHERE chat_jid = c.jid)
        ORDER BY COALESCE(m.ts, c.last_seen) DESC, c.jid`,
    ).all() as Array<
      Omit<MessageRow, 'chat_jid' | 'seq'> & {
        jid: string;
        channel: string;
        name: string | null;
        kind: 'group' | 'direct';
        last_seen: number;
        group_folder: string | null;
        seq: number | null;
      }
    >;
    return rows.map((r) => ({
      jid: r.jid,
      channel: r.channel,
      name: r.name,
      kind: r.kind,
      group: r.group_folder,
      lastSeen: r.last_seen,
      last:
        r.seq === null
          ? null
          : {
              seq: r.seq,
              direction: r.direction,
              sender: r.direction === 'out' ? 'assistant' : (r.sender_name ?? r.sender),
              text: r.text.slice(0, 200),
              ts: r.ts,
            },
    }));
  }

  /** The latest `limit` messages of a chat (before `beforeSeq` when given), oldest first. */
  latestOfChat(chat: string, limit: number, beforeSeq?: number): MessageView[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM messages WHERE chat_jid = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
    ).all(chat, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit) as MessageRow[];
    return rows.reverse().map(toView);
  }

  /** Messages after `afterSeq` (of one chat, or all), oldest first, at most `limit`. */
  messagesAfter(afterSeq: number, limit: number, chat?: string): MessageView[] {
    const rows = (
      chat
        ? stmt(
            this.db,
            'SELECT * FROM messages WHERE seq > ? AND chat_jid = ? ORDER BY seq LIMIT ?',
          ).all(afterSeq, chat, limit)
        : stmt(this.db, 'SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?').all(
            afterSeq,
            limit,
          )
    ) as MessageRow[];
    return rows.map(toView);
  }

  /** The highest message sequence number (0 when there is none). */
  lastSeq(): number {
    return (stmt(this.db, 'SELECT MAX(seq) FROM messages').pluck().get() as number | null) ?? 0;
  }

  /** The messages a run consumed: its chat's seq range. */
  runInput(chat: string, seqStart: number, seqEnd: number): MessageView[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM messages WHERE chat_jid = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT 500',
    ).all(chat, seqStart, seqEnd) as MessageRow[];
    return rows.map(toView);
  }

  /** A run's replies as queued for delivery, in order, with their delivery state. */
  runReplies(
    runId: string,
  ): Array<{ text: string; status: string; attempts: number; error: string | null }> {
    return stmt(
      this.db,
      'SELECT text, status, attempts, error FROM outbox WHERE run_id = ? ORDER BY id',
    ).all(runId) as Array<{ text: string; status: string; attempts: number; error: string | null }>;
  }
}
