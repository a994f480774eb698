import { stmt, type Db } from './db.js';
import type { Group, StoredGroupSettings } from './group-schema.js';

interface GroupRow {
  folder: string;
  is_main: number;
  trigger: string | null;
  requires_trigger: number;
  harness: Group['harness'];
  command: string | null;
  runtime: Group['runtime'];
  model: string | null;
  limits: string;
  senders: string | null;
  warm: number;
  thread_replies: number;
  env: string | null;
  harness_options: string;
  delegates: string | null;
  mounts: string | null;
  created_at: number;
  sandbox_slot: number | null;
}

type JsonSetting = 'limits' | 'senders' | 'env' | 'harnessOptions' | 'delegates' | 'mounts';

/** Settings stored as plain columns (booleans as 0/1). */
const columns: Record<keyof Omit<StoredGroupSettings, JsonSetting>, string> = {
  trigger: 'trigger',
  requiresTrigger: 'requires_trigger',
  harness: 'harness',
  command: 'command',
  runtime: 'runtime',
  model: 'model',
  warm: 'warm',
  threadReplies: 'thread_replies',
};
/** Settings stored as JSON (null clears them). `limits` merges instead (see update). */
const jsonColumns: Record<Exclude<JsonSetting, 'limits'>, string> = {
  senders: 'senders',
  env: 'env',
  // Merged and checked by GroupService (harness-options.ts): stored whole.
  harnessOptions: 'harness_options',
  delegates: 'delegates',
  // Checked against the mount allowlist by GroupService first.
  mounts: 'mounts',
};

/** Groups and their chat bindings. */
export class GroupStore {
  constructor(private readonly db: Db) {}

  private toGroup(row: GroupRow): Group {
    const chats = stmt(
      this.db,
      'SELECT chat_jid FROM chat_bindings WHERE group_folder = ? ORDER BY created_at, chat_jid',
    )
      .pluck()
      .all(row.folder) as string[];
    return {
      folder: row.folder,
      isMain: row.is_main === 1,
      trigger: row.trigger,
      requiresTrigger: row.requires_trigger === 1,
      harness: row.harness,
      command: row.command,
      runtime: row.runtime,
      model: row.model,
      limits: JSON.parse(row.limits) as Group['limits'],
      senders: row.senders ? (JSON.parse(row.senders) as Group['senders']) : null,
      warm: row.warm === 1,
      threadReplies: row.thread_replies === 1,
      env: row.env ? (JSON.parse(row.env) as Group['env']) : {},
      harnessOptions: JSON.parse(row.harness_options) as Group['harnessOptions'],
      delegates: row.delegates ? (JSON.parse(row.delegates) as string[]) : [],
      mounts: row.mounts ? (JSON.parse(row.mounts) as Group['mounts']) : [],
      createdAt: row.created_at,
      sandboxSlot: row.sandbox_slot ?? 0,
      chats,
    };
  }

  get(folder: string): Group | undefined {
    const row = stmt(this.db, 'SELECT * FROM groups WHERE folder = ?').get(folder) as
      GroupRow | undefined;
    return row && this.toGroup(row);
  }

  main(): Group | undefined {
    const row = stmt(this.db, 'SELECT * FROM groups WHERE is_main = 1').get() as
      GroupRow | undefined;
    return row && this.toGroup(row);
  }

  list(): Group[] {
    const rows = stmt(
      this.db,
      'SELECT * FROM groups ORDER BY is_main DESC, folder',
    ).all() as GroupRow[];
    return rows.map((r) => this.toGroup(r));
  }

  /** Every group's extra mounts, with the group's folder (for the nesting rule of mounts). */
  allMounts(): Array<{ group: string; mount: Group['mounts'][number] }> {
    const rows = stmt(
      this.db,
      'SELECT folder, mounts FROM groups WHERE mounts IS NOT NULL ORDER BY folder',
    ).all() as Array<{ folder: string; mounts: string }>;
    return rows.flatMap((r) =>
      (JSON.parse(r.mounts) as Group['mounts']).map((mount) => ({ group: r.folder, mount })),
    );
  }

  /**
   * Adds a group with the lowest free sandbox slot (its host uid is uidBase + slot; a slot is
   * never shared while its group exists).
   */
  insert(
    folder: string,
    settings: StoredGroupSettings,
    opts: { isMain?: boolean; now: number },
  ): void {
    stmt(
      this.db,
      `INSERT INTO groups (folder, is_main, created_at, sandbox_slot) VALUES (?, ?, ?,
         (SELECT MIN(free) FROM (SELECT 1 AS free UNION SELECT sandbox_slot + 1 FROM groups
            WHERE sandbox_slot IS NOT NULL)
          WHERE free NOT IN (SELECT sandbox_slot FROM groups WHERE sandbox_slot IS NOT NULL)))`,
    ).run(folder, opts.isMain ? 1 : 0, opts.now);
    this.update(folder, settings);
  }

  update(folder: string, settings: StoredGroupSettings): void {
    for (const [key, column] of Object.entries(columns)) {
      const value = settings[key as keyof typeof columns];
      if (value === undefined) continue;
      const stored = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      stmt(this.db, `UPDATE groups SET ${column} = ? WHERE folder = ?`).run(stored, folder);
    }
    for (const [key, column] of Object.entries(jsonColumns)) {
      const value = settings[key as keyof typeof jsonColumns];
      if (value === undefined) continue;
      stmt(this.db, `UPDATE groups SET ${column} = ? WHERE folder = ?`).run(
        value === null ? null : JSON.stringify(value),
        folder,
      );
    }
    if (settings.limits) {
      const current = this.get(folder)?.limits ?? {};
      stmt(this.db, 'UPDATE groups SET limits = ? WHERE folder = ?').run(
        JSON.stringify({ ...current, ...settings.limits }),
        folder,
      );
    }
  }

  remove(folder: string): boolean {
    return (
      stmt(this.db, 'DELETE FROM groups WHERE folder = ? AND is_main = 0').run(folder).changes > 0
    );
  }

  bind(chatId: string, folder: string, now: number): void {
    stmt(
      this.db,
      `INSERT INTO chat_bindings (chat_jid, group_folder, created_at) VALUES (?, ?, ?)
         ON CONFLICT(chat_jid) DO UPDATE SET group_folder = excluded.group_folder`,
    ).run(chatId, folder, now);
  }

  unbind(chatId: string): boolean {
    return stmt(this.db, 'DELETE FROM chat_bindings WHERE chat_jid = ?').run(chatId).changes > 0;
  }

  /**
   * The group a chat belongs to: its own binding, else, for a sub-chat `<chat>/<sub>` (a Slack
   * thread `slack:C1/1712.5`), the binding of `<chat>`. Unbinding the parent unbinds its threads.
   */
  groupForChat(chatId: string): Group | undefined {
    const lookup = stmt(
      this.db,
      'SELECT group_folder FROM chat_bindings WHERE chat_jid = ?',
    ).pluck();
    const slash = chatId.indexOf('/');
    const folder = (lookup.get(chatId) ??
      (slash > 0 ? lookup.get(chatId.slice(0, slash)) : undefined)) as string | undefined;
    return folder === undefined ? undefined : this.get(folder);
  }
}
