import type Database from 'better-sqlite3';

/** The search scope tokens of a chat (version 10): 'c' + hex of the chat, and of its parent. */
const chatScope = (chat: string) =>
  `'c' || hex(${chat}) || CASE WHEN instr(${chat}, '/') > 0
     THEN ' c' || hex(substr(${chat}, 1, instr(${chat}, '/') - 1)) ELSE '' END`;
/** The search scope tokens of a transcript row (version 10): its group, then its chat's. */
const transcriptScope = (row: string) =>
  `'g' || hex(${row}group_folder) || CASE WHEN ${row}chat_jid IS NULL THEN ''
     ELSE ' ' || ${chatScope(`${row}chat_jid`)} END`;

/**
 * Numbered migrations. Each runs once, in order, in its own transaction, and is recorded in
 * `schema_migrations`. Never edit a released migration: add the next number.
 */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'chats, groups, bindings, messages',
    sql: `
      CREATE TABLE chats (
        jid TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        name TEXT,
        kind TEXT NOT NULL DEFAULT 'group' CHECK (kind IN ('group', 'direct')),
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      );
      CREATE TABLE groups (
        folder TEXT PRIMARY KEY CHECK (folder GLOB '[a-z0-9]*' AND folder <> 'global'),
        is_main INTEGER NOT NULL DEFAULT 0,
        trigger TEXT,
        requires_trigger INTEGER NOT NULL DEFAULT 1,
        harness TEXT,
        command TEXT,
        runtime TEXT,
        model TEXT,
        limits TEXT NOT NULL DEFAULT '{}',
        cursor_seq INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX groups_one_main ON groups(is_main) WHERE is_main = 1;
      CREATE TABLE chat_bindings (
        chat_jid TEXT PRIMARY KEY,
        group_folder TEXT NOT NULL REFERENCES groups(folder) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX chat_bindings_group ON chat_bindings(group_folder);
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_jid TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        sender TEXT NOT NULL,
        sender_name TEXT,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL,
        reply_to TEXT,
        is_bot INTEGER NOT NULL DEFAULT 0,
        UNIQUE (chat_jid, direction, platform_id)
      );
      CREATE INDEX messages_chat_seq ON messages(chat_jid, seq);
    `,
  },
  {
    version: 2,
    name: 'runs, outbox, sessions, dead letters',
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        group_folder TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('messages', 'task')),
        task_id TEXT,
        chat_jid TEXT,
        seq_start INTEGER,
        seq_end INTEGER,
        attempt INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'interrupted')),
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        error TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        cache_write_tokens INTEGER,
        cost_usd REAL
      );
      CREATE INDEX runs_started ON runs(started_at);
      CREATE INDEX runs_group ON runs(group_folder, started_at);
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idem_key TEXT NOT NULL UNIQUE,
        chat_jid TEXT NOT NULL,
        text TEXT NOT NULL,
        reply_to TEXT,
        run_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        platform_id TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
      CREATE TABLE sessions (
        group_folder TEXT NOT NULL,
        harness TEXT NOT NULL,
        session_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (group_folder, harness)
      );
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('run', 'outbox')),
        group_folder TEXT,
        chat_jid TEXT,
        ref TEXT NOT NULL,
        seq_start INTEGER,
        seq_end INTEGER,
        error TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'scheduled tasks and task runs',
    sql: `
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY CHECK (id GLOB '[A-Za-z0-9]*' AND length(id) <= 64),
        group_folder TEXT NOT NULL REFERENCES groups(folder) ON DELETE CASCADE,
        chat_jid TEXT,
        prompt TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('cron', 'interval', 'once')),
        value TEXT NOT NULL,
        timezone TEXT NOT NULL,
        context_mode TEXT NOT NULL DEFAULT 'isolated' CHECK (context_mode IN ('group', 'isolated')),
        missed_policy TEXT NOT NULL DEFAULT 'latest' CHECK (missed_policy IN ('skip', 'latest', 'all')),
        missed_cap INTEGER,
        status TEXT NOT NULL DEFAULT 'active'
          CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
        next_run_at INTEGER,
        anchor_at INTEGER,
        last_run_at INTEGER,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        pre_check TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX tasks_due ON tasks(next_run_at) WHERE status = 'active' AND lease_owner IS NULL;
      CREATE INDEX tasks_leases ON tasks(lease_expires_at) WHERE lease_owner IS NOT NULL;
      CREATE INDEX tasks_group ON tasks(group_folder, created_at);
      CREATE INDEX tasks_status_next ON tasks(status, next_run_at);
      CREATE TABLE task_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        scheduled_for INTEGER NOT NULL,
        trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),
        status TEXT NOT NULL
          CHECK (status IN ('pending', 'running', 'ok', 'error', 'timeout', 'missed', 'skipped')),
        run_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER,
        ended_at INTEGER,
        result TEXT,
        error TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cost_usd REAL,
        created_at INTEGER NOT NULL,
        UNIQUE (task_id, scheduled_for)
      );
      CREATE INDEX task_runs_open ON task_runs(task_id) WHERE status IN ('pending', 'running');
    `,
  },
  {
    version: 4,
    name: 'channels and harness settings: outbound files, sender allowlists, mentions, effort, env, providers',
    sql: `
      ALTER TABLE outbox ADD COLUMN files TEXT;
      ALTER TABLE groups ADD COLUMN senders TEXT;
      ALTER TABLE groups ADD COLUMN effort TEXT;
      ALTER TABLE groups ADD COLUMN agent_teams INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE groups ADD COLUMN env TEXT;
      ALTER TABLE groups ADD COLUMN provider TEXT;
      ALTER TABLE groups ADD COLUMN warm INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN mentioned INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 5,
    name: 'webhook nonces: replay protection that survives a restart',
    sql: `
      CREATE TABLE webhook_nonces (
        hook TEXT NOT NULL,
        nonce TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (hook, nonce)
      );
      CREATE INDEX webhook_nonces_seen ON webhook_nonces(seen_at);
    `,
  },
  {
    version: 6,
    name: 'runs end when they answer: per-chat cursors, wakes on messages, agent sessions, resume ids',
    sql: `
      -- The trigger is decided once, at intake. NULL: stored before this version and still
      -- pending; the next start decides it (see MessageStore.undecided).
      ALTER TABLE messages ADD COLUMN wakes INTEGER;
      UPDATE messages SET wakes = 0 WHERE direction = 'out' OR is_bot = 1 OR excluded = 1;
      -- A complete request of its own (a mail): answered in its own turn, never batched.
      ALTER TABLE messages ADD COLUMN standalone INTEGER NOT NULL DEFAULT 0;

      -- A cursor per chat: a group bound to several chats answers each on its own.
      CREATE TABLE chat_cursors (chat_jid TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      INSERT INTO chat_cursors (chat_jid, seq)
        SELECT b.chat_jid, g.cursor_seq FROM chat_bindings b JOIN groups g ON g.folder = b.group_folder;
      INSERT OR IGNORE INTO chat_cursors (chat_jid, seq)
        SELECT m.chat_jid, MAX(g.cursor_seq) FROM messages m
          JOIN chat_bindings b ON instr(b.chat_jid, '/') = 0
            AND m.chat_jid >= b.chat_jid || '/' AND m.chat_jid < b.chat_jid || '0'
          JOIN groups g ON g.folder = b.group_folder
        GROUP BY m.chat_jid;
      INSERT OR IGNORE INTO chat_cursors (chat_jid, seq)
        SELECT chat_jid, MAX(seq) FROM messages GROUP BY chat_jid;
      UPDATE messages SET wakes = 0 WHERE wakes IS NULL
        AND seq <= (SELECT c.seq FROM chat_cursors c WHERE c.chat_jid = messages.chat_jid);
      ALTER TABLE groups DROP COLUMN cursor_seq;

      -- The harness's own conversation id a group resumes (not to be confused with agent sessions).
      ALTER TABLE sessions RENAME TO resume_ids;
      ALTER TABLE resume_ids RENAME COLUMN session_id TO resume_id;

      -- A run is one turn: it ends when it has answered. New statuses and columns.
      CREATE TABLE runs_v6 (
        id TEXT PRIMARY KEY,
        group_folder TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'task')),
        task_id TEXT,
        chat_jid TEXT,
        reply_to TEXT,
        seq_start INTEGER,
        seq_end INTEGER,
        attempt INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'dead', 'interrupted')),
        session_id TEXT,
        parent_run_id TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        error TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        cache_write_tokens INTEGER,
        cost_usd REAL
      );
      INSERT INTO runs_v6 (id, group_folder, kind, task_id, chat_jid, seq_start, seq_end, attempt,
          status, started_at, ended_at, error, input_tokens, output_tokens, cache_read_tokens,
          cache_write_tokens, cost_usd)
        SELECT id, group_folder, CASE kind WHEN 'messages' THEN 'message' ELSE kind END, task_id,
          chat_jid, seq_start, seq_end, attempt, status, started_at, ended_at, error, input_tokens,
          output_tokens, cache_read_tokens, cache_write_tokens, cost_usd
        FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_v6 RENAME TO runs;
      CREATE INDEX runs_started ON runs(started_at);
      CREATE INDEX runs_group ON runs(group_folder, started_at);
      CREATE INDEX runs_running ON runs(status) WHERE status = 'running';

      -- A live agent process that serves turns and may wait for follow-ups.
      CREATE TABLE agent_sessions (
        id TEXT PRIMARY KEY,
        group_folder TEXT NOT NULL,
        lane TEXT NOT NULL,
        harness TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('idle', 'busy', 'closing', 'closed')),
        turns INTEGER NOT NULL DEFAULT 0,
        started_at INTEGER NOT NULL,
        last_active_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT
      );
      CREATE INDEX agent_sessions_live ON agent_sessions(state) WHERE state <> 'closed';
      CREATE INDEX agent_sessions_started ON agent_sessions(started_at);

      -- Replies quote (Telegram, Discord, WhatsApp) or thread on (Slack) the message they answer
      -- when the group asks for it.
      ALTER TABLE groups ADD COLUMN thread_replies INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE outbox ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 7,
    name: 'sandbox slots: each group runs as its own host uid (uidBase + slot)',
    sql: `
      ALTER TABLE groups ADD COLUMN sandbox_slot INTEGER CHECK (sandbox_slot >= 1);
      UPDATE groups SET sandbox_slot = ranked.n
        FROM (SELECT folder, ROW_NUMBER() OVER (ORDER BY is_main DESC, created_at, folder) AS n
              FROM groups) AS ranked
        WHERE groups.folder = ranked.folder;
      CREATE UNIQUE INDEX groups_sandbox_slot ON groups(sandbox_slot);
    `,
  },
  {
    version: 8,
    name: 'dead letters: a decision per letter (pending, retried, discarded)',
    sql: `
      ALTER TABLE dead_letters ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'retried', 'discarded'));
      ALTER TABLE dead_letters ADD COLUMN decided_at INTEGER;
      CREATE INDEX dead_letters_status ON dead_letters(status, id);
    `,
  },
  {
    version: 9,
    name: 'history search: run transcripts and full-text indexes of messages and transcripts',
    sql: `
      -- What a run did beyond the chat's messages: a task's prompt, the replies, tool steps.
      CREATE TABLE run_transcripts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        group_folder TEXT NOT NULL,
        chat_jid TEXT,
        role TEXT NOT NULL CHECK (role IN ('prompt', 'reply', 'tool')),
        text TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
      CREATE INDEX run_transcripts_run ON run_transcripts(run_id, id);

      -- FTS5 over both, external content. \`scope\` holds one token per chat ('c' + hex of the
      -- chat id, and of its parent for a thread <chat>/<thread>) and, for transcripts, one
      -- for the group ('g' + hex of the folder): a group's search is an FTS condition, never
      -- a filter applied after ranking.
      CREATE VIEW messages_search_source AS
        SELECT seq, text, ${chatScope('chat_jid')} AS scope FROM messages;
      CREATE VIRTUAL TABLE messages_fts USING fts5(text, scope, content='messages_search_source',
        content_rowid='seq', columnsize=0, tokenize='unicode61 remove_diacritics 2');
      CREATE VIEW run_transcripts_search_source AS
        SELECT id, text, ${transcriptScope('')} AS scope FROM run_transcripts;
      CREATE VIRTUAL TABLE run_transcripts_fts USING fts5(text, scope,
        content='run_transcripts_search_source', content_rowid='id', columnsize=0,
        tokenize='unicode61 remove_diacritics 2');

      -- Rows are indexed in batches up to these marks (see store/search.ts); every search
      -- first indexes what is past them, so a search never misses a stored row.
      CREATE TABLE search_index_state (
        source TEXT PRIMARY KEY CHECK (source IN ('messages', 'run_transcripts')),
        indexed_through INTEGER NOT NULL
      );
      INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
      INSERT INTO search_index_state (source, indexed_through) VALUES
        ('messages', COALESCE((SELECT MAX(seq) FROM messages), 0)),
        ('run_transcripts', 0);

      -- Nothing deletes or rewrites these rows today; if something does, the index follows.
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.seq <= (SELECT indexed_through FROM search_index_state WHERE source = 'messages')
        BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, text, scope)
            VALUES ('delete', old.seq, old.text, ${chatScope('old.chat_jid')});
        END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, chat_jid ON messages
        WHEN old.seq <= (SELECT indexed_through FROM search_index_state WHERE source = 'messages')
        BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, text, scope)
            VALUES ('delete', old.seq, old.text, ${chatScope('old.chat_jid')});
          INSERT INTO messages_fts(rowid, text, scope)
            VALUES (new.seq, new.text, ${chatScope('new.chat_jid')});
        END;
      CREATE TRIGGER run_transcripts_fts_delete AFTER DELETE ON run_transcripts
        WHEN old.id <= (SELECT indexed_through FROM search_index_state WHERE source = 'run_transcripts')
        BEGIN
          INSERT INTO run_transcripts_fts(run_transcripts_fts, rowid, text, scope)
            VALUES ('delete', old.id, old.text, ${transcriptScope('old.')});
        END;
    `,
  },
  {
    version: 10,
    name: 'harness options: effort, agent_teams and provider become harness_options per harness',
    sql: `
      -- {"claude": {"effort", "agentTeams"}, "codex": {"effort", "provider"}}: effort was read by
      -- both harnesses; a harness without options gets no block. Built with json_object only
      -- (json_patch would drop the nulls inside a provider, e.g. "envKey": null).
      ALTER TABLE groups ADD COLUMN harness_options TEXT NOT NULL DEFAULT '{}';
      UPDATE groups SET harness_options = CASE
          WHEN o.claude IS NOT NULL AND o.codex IS NOT NULL
            THEN json_object('claude', json(o.claude), 'codex', json(o.codex))
          WHEN o.claude IS NOT NULL THEN json_object('claude', json(o.claude))
          WHEN o.codex IS NOT NULL THEN json_object('codex', json(o.codex))
          ELSE '{}' END
        FROM (SELECT folder,
                CASE
                  WHEN effort IS NOT NULL AND agent_teams = 1
                    THEN json_object('effort', effort, 'agentTeams', json('true'))
                  WHEN effort IS NOT NULL THEN json_object('effort', effort)
                  WHEN agent_teams = 1 THEN json_object('agentTeams', json('true'))
                END AS claude,
                CASE
                  WHEN effort IS NOT NULL AND provider IS NOT NULL
                    THEN json_object('effort', effort, 'provider', json(provider))
                  WHEN effort IS NOT NULL THEN json_object('effort', effort)
                  WHEN provider IS NOT NULL THEN json_object('provider', json(provider))
                END AS codex
              FROM groups) AS o
        WHERE groups.folder = o.folder;
      ALTER TABLE groups DROP COLUMN effort;
      ALTER TABLE groups DROP COLUMN agent_teams;
      ALTER TABLE groups DROP COLUMN provider;
    `,
  },
  {
    version: 11,
    name: "guard: approvals, the owner's rules, raised budget caps, taint and skips on runs",
    sql: `
      -- One row per question to the owner; decided once (compare-and-swap on status).
      CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        group_folder TEXT NOT NULL,
        run_id TEXT,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        effect TEXT NOT NULL,
        card TEXT NOT NULL,
        taint TEXT,
        dedupe_key TEXT NOT NULL,
        asked_in TEXT,
        code TEXT,
        requested_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'allowed', 'denied', 'expired')),
        decision TEXT CHECK (decision IN ('once', 'always', 'deny')),
        decided_by TEXT,
        decided_at INTEGER
      );
      CREATE INDEX approvals_status ON approvals(status, expires_at);
      CREATE INDEX approvals_dedupe ON approvals(dedupe_key, status);

      -- Rules the owner wrote (an "always" answer, or by hand); revoked ones are kept.
      CREATE TABLE guard_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        group_folder TEXT NOT NULL,
        kind TEXT NOT NULL,
        pattern TEXT NOT NULL,
        effect TEXT NOT NULL CHECK (effect IN ('allow', 'ask', 'deny')),
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        approval_id INTEGER,
        revoked_at INTEGER
      );
      CREATE UNIQUE INDEX guard_rules_live ON guard_rules(group_folder, kind, pattern)
        WHERE revoked_at IS NULL;

      -- A cap the owner raised (over config budgets).
      CREATE TABLE budget_caps (
        scope TEXT NOT NULL CHECK (scope IN ('group', 'task')),
        ref TEXT NOT NULL,
        period TEXT NOT NULL CHECK (period IN ('daily', 'monthly')),
        unit TEXT NOT NULL CHECK (unit IN ('usd', 'tokens')),
        cap REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, ref, period, unit)
      );

      -- Why a run's side effects ask (JSON array of reasons); why it did not run (a skip).
      ALTER TABLE runs ADD COLUMN taint TEXT;
      ALTER TABLE runs ADD COLUMN skipped TEXT;
    `,
  },
  {
    version: 12,
    name: 'delegation: delegate runs as children of their caller, delegations, group delegates',
    sql: `
      -- Runs gain the kind 'delegate' (a CHECK constraint: the table is rebuilt) and billed_to:
      -- the groups that delegated the run, nearest first (JSON array), whose budgets it counts to.
      CREATE TABLE runs_v12 (
        id TEXT PRIMARY KEY,
        group_folder TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'task', 'delegate')),
        task_id TEXT,
        chat_jid TEXT,
        reply_to TEXT,
        seq_start INTEGER,
        seq_end INTEGER,
        attempt INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'dead', 'interrupted')),
        session_id TEXT,
        parent_run_id TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        error TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        cache_write_tokens INTEGER,
        cost_usd REAL,
        taint TEXT,
        skipped TEXT,
        billed_to TEXT
      );
      INSERT INTO runs_v12 (id, group_folder, kind, task_id, chat_jid, reply_to, seq_start, seq_end,
          attempt, status, session_id, parent_run_id, started_at, ended_at, error, input_tokens,
          output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, taint, skipped)
        SELECT id, group_folder, kind, task_id, chat_jid, reply_to, seq_start, seq_end, attempt,
          status, session_id, parent_run_id, started_at, ended_at, error, input_tokens,
          output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, taint, skipped
        FROM runs;
      DROP TABLE runs;
      ALTER TABLE runs_v12 RENAME TO runs;
      CREATE INDEX runs_started ON runs(started_at);
      CREATE INDEX runs_group ON runs(group_folder, started_at);
      CREATE INDEX runs_running ON runs(status) WHERE status = 'running';
      CREATE INDEX runs_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;

      -- Groups a (non-main) group may delegate to (JSON array of folders; NULL: none).
      ALTER TABLE groups ADD COLUMN delegates TEXT;

      -- One row per delegate call: durable, so a result promised to a chat survives a restart.
      CREATE TABLE delegations (
        id TEXT PRIMARY KEY,
        caller_group TEXT NOT NULL,
        caller_run_id TEXT,
        caller_chat TEXT,
        delegate_group TEXT NOT NULL,
        run_id TEXT,
        depth INTEGER NOT NULL,
        prompt TEXT NOT NULL,
        files TEXT,
        wait INTEGER NOT NULL,
        timeout_ms INTEGER NOT NULL,
        billed_to TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'running', 'ok', 'failed', 'abandoned')),
        reply TEXT,
        handoff TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        -- When it was let go (the guard allowed it): a restart re-runs only those.
        launched_at INTEGER,
        ended_at INTEGER
      );
      CREATE INDEX delegations_caller ON delegations(caller_run_id);
      CREATE INDEX delegations_open ON delegations(status) WHERE status IN ('queued', 'running');
    `,
  },
  {
    version: 13,
    name: 'group mounts: host folders a group sees at /workspace/extra/<name>',
    sql: `
      -- JSON array of {name, hostPath, readOnly}; hostPath resolved when granted. NULL: none.
      ALTER TABLE groups ADD COLUMN mounts TEXT;
    `,
  },
];

export const latestVersion = migrations[migrations.length - 1]!.version;

export function currentVersion(db: Database.Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number | null;
  };
  return row.v ?? 0;
}

/** Applies every migration above the recorded version (up to `target`, for tests). */
export function migrate(db: Database.Database, target = latestVersion): number {
  const from = currentVersion(db);
  if (from > latestVersion) {
    throw new Error(
      `database schema version ${from} is newer than this clawpod (${latestVersion}); upgrade clawpod`,
    );
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  for (const m of migrations) {
    if (m.version <= from || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    })();
  }
  return currentVersion(db);
}
