import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { openDb, type Db } from './db.js';
import { currentVersion, latestVersion, migrate, migrations } from './migrations.js';

const tempDir = useTempDirs('clawpod-migrations-');
const dbFile = () => join(tempDir(), 'nested', 'clawpod.db');

const tables = (db: Db) =>
  db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .pluck()
    .all() as string[];

const applied = (db: Db) =>
  db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all() as number[];

const allVersions = migrations.map((m) => m.version);

/** Tables each version adds; the latest schema is the union. */
const tablesByVersion: Record<number, string[]> = {
  1: ['chat_bindings', 'chats', 'groups', 'messages'],
  // 2 also added `sessions`, which 6 renames to `resume_ids`.
  2: ['dead_letters', 'outbox', 'runs'],
  3: ['task_runs', 'tasks'],
  4: [],
  5: ['webhook_nonces'],
  6: ['agent_sessions', 'chat_cursors', 'resume_ids'],
  7: [],
  8: [],
  9: ['messages_fts', 'run_transcripts', 'run_transcripts_fts', 'search_index_state'],
  10: [],
  11: ['approvals', 'budget_caps', 'guard_rules'],
  12: ['delegations'],
  13: [],
};

/**
 * Rows written at a given schema version, and a check that they are intact at the latest one.
 * Every version before the latest needs an entry (a new migration must add one).
 */
const fixtures: Record<number, { seed(db: Db): void; check(db: Db): void }> = {
  1: {
    seed(db) {
      db.prepare(
        "INSERT INTO chats (jid, channel, name, kind, first_seen, last_seen) VALUES ('tg:1', 'tg', 'Team', 'group', 1, 2)",
      ).run();
      db.prepare(
        "INSERT INTO groups (folder, is_main, trigger, requires_trigger, limits, cursor_seq, created_at) VALUES ('team', 0, '@Bot', 1, '{\"cpus\":2}', 7, 3)",
      ).run();
      db.prepare(
        "INSERT INTO chat_bindings (chat_jid, group_folder, created_at) VALUES ('tg:1', 'team', 4)",
      ).run();
      db.prepare(
        "INSERT INTO messages (chat_jid, platform_id, direction, sender, text, ts) VALUES ('tg:1', 'm1', 'in', 'tg:u', 'hello', 5)",
      ).run();
    },
    check(db) {
      expect(db.prepare("SELECT name, kind FROM chats WHERE jid = 'tg:1'").get()).toEqual({
        name: 'Team',
        kind: 'group',
      });
      expect(db.prepare("SELECT trigger, limits FROM groups WHERE folder = 'team'").get()).toEqual({
        trigger: '@Bot',
        limits: '{"cpus":2}',
      });
      // Version 6 moves the group's cursor to each of its chats.
      expect(db.prepare("SELECT seq FROM chat_cursors WHERE chat_jid = 'tg:1'").pluck().get()).toBe(
        7,
      );
      expect(
        db.prepare("SELECT group_folder FROM chat_bindings WHERE chat_jid = 'tg:1'").pluck().get(),
      ).toBe('team');
      expect(
        db.prepare("SELECT seq, text, is_bot FROM messages WHERE platform_id = 'm1'").all(),
      ).toEqual([{ seq: 1, text: 'hello', is_bot: 0 }]);
    },
  },
  2: {
    seed(db) {
      db.prepare(
        `INSERT INTO runs (id, group_folder, kind, chat_jid, seq_start, seq_end, attempt, status, started_at, ended_at, input_tokens, cost_usd)
         VALUES ('run_1', 'team', 'messages', 'tg:1', 1, 1, 2, 'ok', 10, 20, 100, 0.5)`,
      ).run();
      db.prepare(
        `INSERT INTO outbox (idem_key, chat_jid, text, run_id, status, attempts, next_attempt_at, created_at)
         VALUES ('run:run_1:0:0', 'tg:1', 'hi there', 'run_1', 'sent', 1, 20, 20)`,
      ).run();
      db.prepare(
        "INSERT INTO sessions (group_folder, harness, session_id, updated_at) VALUES ('team', 'claude', 's-1', 21)",
      ).run();
      db.prepare(
        "INSERT INTO dead_letters (kind, group_folder, ref, error, created_at) VALUES ('run', 'team', 'run_0', 'boom', 22)",
      ).run();
    },
    check(db) {
      expect(
        db
          .prepare("SELECT kind, task_id, status, attempt, cost_usd FROM runs WHERE id = 'run_1'")
          .get(),
      ).toEqual({ kind: 'message', task_id: null, status: 'ok', attempt: 2, cost_usd: 0.5 });
      expect(db.prepare('SELECT idem_key, status, run_id FROM outbox').all()).toEqual([
        { idem_key: 'run:run_1:0:0', status: 'sent', run_id: 'run_1' },
      ]);
      expect(db.prepare('SELECT resume_id FROM resume_ids').pluck().get()).toBe('s-1');
      expect(db.prepare('SELECT ref, error FROM dead_letters').get()).toEqual({
        ref: 'run_0',
        error: 'boom',
      });
      // Version 3 adds tasks beside the old rows: a task of the old group can be stored.
      db.prepare(
        `INSERT INTO tasks (id, group_folder, prompt, type, value, timezone, next_run_at, created_by, created_at, updated_at)
         VALUES ('t1', 'team', 'brief', 'interval', '900000', 'UTC', 100, 'main', 1, 1)`,
      ).run();
      expect(
        db.prepare("SELECT status, context_mode, missed_policy FROM tasks WHERE id = 't1'").get(),
      ).toEqual({ status: 'active', context_mode: 'isolated', missed_policy: 'latest' });
    },
  },
  3: {
    seed(db) {
      db.prepare(
        `INSERT INTO tasks (id, group_folder, prompt, type, value, timezone, next_run_at, created_by, created_at, updated_at)
         VALUES ('t3', 'team', 'weekly', 'cron', '0 8 * * 1', 'Europe/Berlin', 500, 'main', 1, 1)`,
      ).run();
    },
    check(db) {
      expect(db.prepare("SELECT value, timezone FROM tasks WHERE id = 't3'").get()).toEqual({
        value: '0 8 * * 1',
        timezone: 'Europe/Berlin',
      });
      // Version 4 columns default to "nothing special" for old rows.
      expect(
        db.prepare("SELECT senders FROM groups WHERE folder = 'team'").pluck().get(),
      ).toBeNull();
      expect(
        db.prepare("SELECT mentioned FROM messages WHERE platform_id = 'm1'").pluck().all(),
      ).toEqual([0]);
      expect(db.prepare('SELECT files FROM outbox').pluck().all()).toEqual([null]);
    },
  },
  4: {
    seed(db) {
      db.prepare(
        `INSERT INTO groups (folder, is_main, trigger, requires_trigger, limits, cursor_seq, created_at, senders, effort, warm)
         VALUES ('ops', 0, '@Bot', 1, '{}', 0, 6, '{"allow":["tg:u"],"others":"keep"}', 'high', 1)`,
      ).run();
    },
    check(db) {
      // Version 9 moves `effort` into the options of both harnesses that read it.
      expect(
        db.prepare("SELECT senders, harness_options, warm FROM groups WHERE folder = 'ops'").get(),
      ).toEqual({
        senders: '{"allow":["tg:u"],"others":"keep"}',
        harness_options: '{"claude":{"effort":"high"},"codex":{"effort":"high"}}',
        warm: 1,
      });
      // Version 5 adds the webhook nonce table beside the old rows; a nonce is kept once.
      const insert = db.prepare(
        "INSERT OR IGNORE INTO webhook_nonces (hook, nonce, seen_at) VALUES ('deploy', 'n-1', 7)",
      );
      expect(insert.run().changes).toBe(1);
      expect(insert.run().changes).toBe(0);
    },
  },
  5: {
    seed(db) {
      // A chat of `team` (cursor 7) with a pending message, and an unbound chat.
      db.prepare(
        "INSERT INTO messages (seq, chat_jid, platform_id, direction, sender, text, ts) VALUES (50, 'tg:1', 'm9', 'in', 'tg:u', '@Bot pending', 9)",
      ).run();
      db.prepare(
        "INSERT INTO messages (chat_jid, platform_id, direction, sender, text, ts) VALUES ('tg:77', 'x1', 'in', 'tg:v', 'unbound', 10)",
      ).run();
    },
    check(db) {
      // Still pending (after the chat's cursor): its wake is decided at the next start.
      expect(
        db.prepare("SELECT wakes FROM messages WHERE platform_id = 'm9'").pluck().get(),
      ).toBeNull();
      // Consumed or unbound messages never wake.
      expect(
        db.prepare("SELECT wakes FROM messages WHERE platform_id IN ('m1', 'x1')").pluck().all(),
      ).toEqual([0, 0]);
      expect(
        db.prepare("SELECT seq FROM chat_cursors WHERE chat_jid = 'tg:77'").pluck().get(),
      ).toBe(db.prepare("SELECT seq FROM messages WHERE platform_id = 'x1'").pluck().get());
    },
  },
  6: {
    seed(db) {
      db.prepare(
        "INSERT INTO webhook_nonces (hook, nonce, seen_at) VALUES ('alerts', 'n-5', 8)",
      ).run();
    },
    check(db) {
      expect(
        db.prepare("SELECT seen_at FROM webhook_nonces WHERE nonce = 'n-5'").pluck().get(),
      ).toBe(8);
      // Version 7 gives every existing group its own sandbox slot, in creation order from 1.
      expect(db.prepare('SELECT folder, sandbox_slot FROM groups ORDER BY folder').all()).toEqual([
        { folder: 'ops', sandbox_slot: 2 },
        { folder: 'team', sandbox_slot: 1 },
      ]);
      expect(() =>
        db.prepare("UPDATE groups SET sandbox_slot = 1 WHERE folder = 'ops'").run(),
      ).toThrow(/UNIQUE/);
    },
  },
  7: {
    seed(db) {
      db.prepare(
        `INSERT INTO dead_letters (kind, group_folder, chat_jid, ref, error, created_at)
         VALUES ('outbox', 'team', 'tg:1', 'run:run_1:0:0', 'chat not found', 23)`,
      ).run();
    },
    check(db) {
      // Version 8: dead letters recorded before it are pending, undecided.
      expect(
        db.prepare("SELECT status, decided_at FROM dead_letters WHERE ref = 'run:run_1:0:0'").get(),
      ).toEqual({ status: 'pending', decided_at: null });
      expect(() =>
        db.prepare("UPDATE dead_letters SET status = 'lost' WHERE ref = 'run:run_1:0:0'").run(),
      ).toThrow(/CHECK constraint/);
    },
  },
  8: {
    seed(db) {
      db.prepare(
        "INSERT INTO messages (chat_jid, platform_id, direction, sender, text, ts, is_bot, wakes) VALUES ('tg:1', 'o1', 'out', 'assistant', 'Your dentist appointment is on Friday', 11, 1, 0)",
      ).run();
    },
    check(db) {
      // Version 9 back-fills the search index with every stored message, and marks it so.
      const found = (q: string) =>
        db
          .prepare(
            'SELECT m.platform_id FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH ? ORDER BY m.seq',
          )
          .pluck()
          .all(q);
      expect(found('text : (dentist)')).toEqual(['o1']);
      expect(found('text : (hello OR unbound OR pending)')).toEqual(['m1', 'm9', 'x1']);
      expect(
        db
          .prepare("SELECT indexed_through FROM search_index_state WHERE source = 'messages'")
          .pluck()
          .get(),
      ).toBe(db.prepare('SELECT MAX(seq) FROM messages').pluck().get());
      db.prepare(
        "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)",
      ).run();
    },
  },
  9: {
    seed(db) {
      db.prepare(
        `UPDATE groups SET agent_teams = 1,
           provider = '{"name":"ollama","baseUrl":"/upstream/ollama/v1","envKey":null,"wireApi":"responses"}'
         WHERE folder = 'team'`,
      ).run();
    },
    check(db) {
      // Version 10: the old columns are gone, their values are each harness's options.
      expect(
        JSON.parse(
          db
            .prepare("SELECT harness_options FROM groups WHERE folder = 'team'")
            .pluck()
            .get() as string,
        ),
      ).toEqual({
        claude: { agentTeams: true },
        codex: {
          provider: {
            name: 'ollama',
            baseUrl: '/upstream/ollama/v1',
            envKey: null,
            wireApi: 'responses',
          },
        },
      });
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('groups');
      for (const gone of ['effort', 'agent_teams', 'provider']) expect(columns).not.toContain(gone);
    },
  },
  10: {
    seed(db) {
      db.prepare(
        `INSERT INTO runs (id, group_folder, kind, status, started_at, attempt, cost_usd)
         VALUES ('run_old', 'team', 'message', 'ok', 24, 1, 0.5)`,
      ).run();
    },
    check(db) {
      // Version 11: runs recorded before it read no untrusted content and were not skipped;
      // approvals are decided once, and only to a known status.
      expect(
        db.prepare("SELECT taint, skipped, cost_usd FROM runs WHERE id = 'run_old'").get(),
      ).toEqual({ taint: null, skipped: null, cost_usd: 0.5 });
      db.prepare(
        `INSERT INTO approvals (group_folder, kind, subject, effect, card, dedupe_key, requested_at, expires_at)
         VALUES ('team', 'egress', 'x.org:443', '{}', 'card', 'k', 1, 2)`,
      ).run();
      expect(() =>
        db.prepare("UPDATE approvals SET status = 'maybe' WHERE dedupe_key = 'k'").run(),
      ).toThrow(/CHECK constraint/);
    },
  },
  11: {
    seed(db) {
      db.prepare(
        `INSERT INTO runs (id, group_folder, kind, status, started_at, attempt, cost_usd, taint, session_id, reply_to)
         VALUES ('run_v11', 'team', 'task', 'ok', 25, 2, 0.25, '["mail"]', 'ses_1', 'p9')`,
      ).run();
    },
    check(db) {
      // Version 12 rebuilds runs (kind 'delegate', billed_to): every column survives.
      expect(
        db
          .prepare(
            "SELECT kind, attempt, cost_usd, taint, session_id, reply_to, billed_to FROM runs WHERE id = 'run_v11'",
          )
          .get(),
      ).toEqual({
        kind: 'task',
        attempt: 2,
        cost_usd: 0.25,
        taint: '["mail"]',
        session_id: 'ses_1',
        reply_to: 'p9',
        billed_to: null,
      });
      db.prepare(
        `INSERT INTO runs (id, group_folder, kind, status, started_at, parent_run_id)
         VALUES ('run_child', 'coder', 'delegate', 'running', 26, 'run_v11')`,
      ).run();
      expect(() =>
        db.prepare("UPDATE runs SET kind = 'swarm' WHERE id = 'run_child'").run(),
      ).toThrow(/CHECK constraint/);
      expect(db.prepare("SELECT delegates FROM groups WHERE folder = 'team'").pluck().get()).toBe(
        null,
      );
    },
  },
  12: {
    seed(db) {
      db.prepare(`UPDATE groups SET delegates = '["team"]' WHERE folder = 'ops'`).run();
    },
    check(db) {
      // Version 13: groups gain mounts, none for the groups that were there.
      expect(
        db.prepare("SELECT sandbox_slot, delegates, mounts FROM groups WHERE folder = 'ops'").get(),
      ).toEqual({ sandbox_slot: 2, delegates: '["team"]', mounts: null });
    },
  },
};

describe('migrations', () => {
  it('are numbered 1, 2, 3… without gaps', () => {
    expect(allVersions).toEqual(allVersions.map((_, i) => i + 1));
    expect(latestVersion).toBe(allVersions.at(-1));
  });

  it('migrate an empty database to the latest version', () => {
    const db = openDb(dbFile());
    try {
      expect(currentVersion(db)).toBe(latestVersion);
      expect(applied(db)).toEqual(allVersions);
      const expected = Object.values(tablesByVersion).flat();
      expect(tables(db)).toEqual(expect.arrayContaining([...expected, 'schema_migrations']));
      // Every migration is described by the table list above.
      expect(Object.keys(tablesByVersion).map(Number)).toEqual(allVersions);
    } finally {
      db.close();
    }
  });

  it('records each version once with its name', () => {
    const db = openDb(':memory:');
    const rows = db
      .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
      .all() as Array<{
      version: number;
      name: string;
      applied_at: number;
    }>;
    expect(rows.map((r) => [r.version, r.name])).toEqual(
      migrations.map((m) => [m.version, m.name]),
    );
    for (const r of rows) expect(r.applied_at).toBeGreaterThan(0);
    db.close();
  });

  it('stops at the requested version', () => {
    const file = dbFile();
    const db = openDb(file, { migrateTo: 1 });
    expect(currentVersion(db)).toBe(1);
    expect(applied(db)).toEqual([1]);
    expect(tables(db)).toEqual([...tablesByVersion[1]!, 'schema_migrations'].sort());
    db.close();
  });

  it('has fixtures for every earlier version', () => {
    expect(Object.keys(fixtures).map(Number)).toEqual(allVersions.slice(0, -1));
  });

  for (const from of allVersions.slice(0, -1)) {
    it(`upgrades a v${from} database to the latest version and keeps its rows`, () => {
      const file = dbFile();
      // Each fixture's rows are written at its own version, as a database ages.
      const old = openDb(file, { migrateTo: 1 });
      for (let v = 1; v <= from; v++) {
        migrate(old, v);
        fixtures[v]!.seed(old);
      }
      expect(currentVersion(old)).toBe(from);
      old.close();

      const db = openDb(file);
      try {
        expect(currentVersion(db)).toBe(latestVersion);
        expect(applied(db)).toEqual(allVersions);
        for (let v = 1; v <= from; v++) fixtures[v]!.check(db);
        const expected = Object.values(tablesByVersion).flat();
        expect(tables(db)).toEqual(expect.arrayContaining(expected));
      } finally {
        db.close();
      }
    });
  }

  it('harness options: each harness gets the old settings it read, a group without any none', () => {
    const version = migrations.find((m) => m.name.startsWith('harness options'))!.version;
    const db = new Database(':memory:');
    migrate(db, version - 1);
    db.prepare(
      `INSERT INTO groups (folder, created_at, sandbox_slot, effort, agent_teams, provider)
       VALUES ('lab', 1, 1, 'max', 1, '{"name":"x","baseUrl":"http://h/v1","envKey":"K","wireApi":"responses"}'),
              ('plain', 1, 2, NULL, 0, NULL)`,
    ).run();
    migrate(db);
    const options = (folder: string): unknown =>
      JSON.parse(
        db
          .prepare('SELECT harness_options FROM groups WHERE folder = ?')
          .pluck()
          .get(folder) as string,
      );
    expect(options('lab')).toEqual({
      claude: { effort: 'max', agentTeams: true },
      codex: {
        effort: 'max',
        provider: { name: 'x', baseUrl: 'http://h/v1', envKey: 'K', wireApi: 'responses' },
      },
    });
    expect(options('plain')).toEqual({});
    db.close();
  });

  it('upgrades step by step with migrate(db, target)', () => {
    const db = new Database(':memory:');
    expect(migrate(db, 1)).toBe(1);
    fixtures[1]!.seed(db);
    expect(migrate(db)).toBe(latestVersion);
    fixtures[1]!.check(db);
    db.close();
  });

  it('is a no-op when run again', () => {
    const file = dbFile();
    const db = openDb(file, { migrateTo: 1 });
    fixtures[1]!.seed(db);
    expect(migrate(db)).toBe(latestVersion);
    const before = db.prepare('SELECT version, applied_at FROM schema_migrations').all();
    expect(migrate(db)).toBe(latestVersion);
    expect(migrate(db)).toBe(latestVersion);
    expect(db.prepare('SELECT version, applied_at FROM schema_migrations').all()).toEqual(before);
    fixtures[1]!.check(db);
    db.close();

    // Reopening (which migrates again) changes nothing either.
    const again = openDb(file);
    expect(applied(again)).toEqual(allVersions);
    fixtures[1]!.check(again);
    again.close();
  });

  it('refuses a database written by a newer clawpod, with a clear error', () => {
    const file = dbFile();
    const db = openDb(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      latestVersion + 1,
      'from the future',
      Date.now(),
    );
    db.close();

    const newer = latestVersion + 1;
    expect(() => openDb(file)).toThrow(
      new RegExp(
        `schema version ${newer} is newer than this clawpod \\(${latestVersion}\\); upgrade clawpod`,
      ),
    );
    // Nothing was changed by the refused open.
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(newer);
    raw.close();
  });

  it('opens with WAL and foreign keys on', () => {
    const db = openDb(dbFile());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});
