import { stmt, type Db } from './db.js';

export interface ChatInfo {
  jid: string;
  channel: string;
  name: string | null;
  kind: 'group' | 'direct';
  firstSeen: number;
  lastSeen: number;
  group: string | null;
  /** The chat's newest stored message (in or out), or null when none is stored. */
  lastMessage: LastMessage | null;
}

/** The newest message of a chat, as `clawpod chats list` shows it. */
export interface LastMessage {
  seq: number;
  direction: 'in' | 'out';
  /** The stable sender id (`tg:4242`), as `owner.ids` and sender allowlists use it. */
  sender: string;
  senderName: string | null;
  text: string;
  ts: number;
}

/** Chats seen on any channel, bound or not (unbound ones are discoverable for `groups bind`). */
export class ChatStore {
  constructor(private readonly db: Db) {}

  touch(jid: string, meta: { name?: string | null; kind?: 'group' | 'direct' }, now: number): void {
    const channel = jid.slice(0, jid.indexOf(':'));
    stmt(
      this.db,
      `INSERT INTO chats (jid, channel, name, kind, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(jid) DO UPDATE SET last_seen = excluded.last_seen,
           name = COALESCE(excluded.name, chats.name), kind = excluded.kind`,
    ).run(jid, channel, meta.name ?? null, meta.kind ?? 'group', now, now);
  }

  /**
   * Every chat seen on a channel, and every chat bound to a group before its first message
   * (seen times: the binding's), each with its newest stored message; most recent activity
   * first (a reply counts). The one chat query: `clawpod chats list`, `GET /api/chats` and the
   * Control UI's `GET /api/chats/overview` (a projection of it) all read this.
   */
  list(): ChatInfo[] {
    // The newest message per chat through the (chat_jid, seq) index: one seek per chat.
    const rows = stmt(
      this.db,
      `SELECT c.*, b.group_folder, m.seq AS m_seq, m.direction AS m_direction, m.sender AS m_sender,
              m.sender_name AS m_sender_name, m.text AS m_text, m.ts AS m_ts
         FROM (SELECT jid, channel, name, kind, first_seen, last_seen FROM chats
               UNION ALL
               SELECT chat_jid, substr(chat_jid, 1, instr(chat_jid, ':') - 1), NULL, 'group',
                      created_at, created_at
                 FROM chat_bindings WHERE chat_jid NOT IN (SELECT jid FROM chats)) c
         LEFT JOIN chat_bindings b ON b.chat_jid = c.jid
         LEFT JOIN messages m ON m.seq =
           (SELECT seq FROM messages WHERE chat_jid = c.jid ORDER BY seq DESC LIMIT 1)
        ORDER BY COALESCE(m.ts, c.last_seen) DESC, c.jid`,
    ).all() as Array<{
      jid: string;
      channel: string;
      name: string | null;
      kind: 'group' | 'direct';
      first_seen: number;
      last_seen: number;
      group_folder: string | null;
      m_seq: number | null;
      m_direction: 'in' | 'out' | null;
      m_sender: string | null;
      m_sender_name: string | null;
      m_text: string | null;
      m_ts: number | null;
    }>;
    return rows.map((r) => ({
      jid: r.jid,
      channel: r.channel,
      name: r.name,
      kind: r.kind,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      group: r.group_folder,
      lastMessage:
        r.m_seq === null
          ? null
          : {
              seq: r.m_seq,
              direction: r.m_direction!,
              sender: r.m_sender!,
              senderName: r.m_sender_name,
              text: r.m_text!,
              ts: r.m_ts!,
            },
    }));
  }
}
