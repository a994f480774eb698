import { stmt, type Db } from './db.js';

export interface ChatInfo {
  jid: string;
  channel: string;
  name: string | null;
  kind: 'group' | 'direct';
  firstSeen: number;
  lastSeen: number;
  group: string | null;
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

  list(): ChatInfo[] {
    const rows = stmt(
      this.db,
      `SELECT c.*, b.group_folder FROM chats c LEFT JOIN chat_bindings b ON b.chat_jid = c.jid
         ORDER BY c.last_seen DESC`,
    ).all() as Array<{
      jid: string;
      channel: string;
      name: string | null;
      kind: 'group' | 'direct';
      first_seen: number;
      last_seen: number;
      group_folder: string | null;
    }>;
    return rows.map((r) => ({
      jid: r.jid,
      channel: r.channel,
      name: r.name,
      kind: r.kind,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      group: r.group_folder,
    }));
  }
}
