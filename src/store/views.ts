import type { ChatInfo } from './chats.js';
import { stmt, type Db } from './db.js';

/**
 * Read-only views the Control UI and its API routes need beyond the table stores: the chat list
 * (a projection of `store.chats.list()`), a chat's latest page, messages after a sequence number across
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

/** The Control UI's row for a chat (`GET /api/chats/overview`): sender as shown, text cut. */
export function chatOverviewOf(c: ChatInfo): ChatOverview {
  const m = c.lastMessage;
  return {
    jid: c.jid,
    channel: c.channel,
    name: c.name,
    kind: c.kind,
    group: c.group,
    lastSeen: c.lastSeen,
    last: m && {
      seq: m.seq,
      direction: m.direction,
      sender: m.direction === 'out' ? 'assistant' : (m.senderName ?? m.sender),
      text: m.text.slice(0, 200),
      ts: m.ts,
    },
  };
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
