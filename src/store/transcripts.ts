import { stmt, type Db } from './db.js';

export type TranscriptRole = 'prompt' | 'reply' | 'tool';

/** One tool call of a turn, in short (tool name and a one-line summary of what it did). */
export interface ToolStep {
  name: string;
  summary: string;
}

/** What a committed turn adds to its run's transcript. */
export interface TurnTranscript {
  /** The turn's input as the agent got it. Kept for task runs only (see recordTurn). */
  prompt: string;
  /** The replies, cleaned, as they went to the outbox. */
  replies: string[];
  /**
   * The turn's tool calls in short. The hook for runner `tool` events: empty until the host
   * receives them from the runner.
   */
  tools?: ToolStep[];
  at: number;
}

/** One stored line of a run's transcript. */
export interface TranscriptEntry {
  id: number;
  runId: string;
  group: string;
  chatId: string | null;
  role: TranscriptRole;
  text: string;
  ts: number;
}

interface Row {
  id: number;
  run_id: string;
  group_folder: string;
  chat_jid: string | null;
  role: TranscriptRole;
  text: string;
  ts: number;
}

/** A tool step is kept short: the transcript says what was done, not its whole output. */
export const MAX_TOOL_STEP_CHARS = 500;

/**
 * Run transcripts: what a run did beyond the chat's own messages, for history search. Rows are
 * written once, when the turn commits, and never changed.
 */
export class TranscriptStore {
  constructor(private readonly db: Db) {}

  /**
   * Records a committed turn of run `runId` (call inside the commit transaction). A message
   * run's prompt is not kept: it is the chat's messages (the run's seq range), stored and
   * indexed once as messages. A task run's prompt is kept, as are every run's replies and tool
   * steps. Unknown runs are ignored.
   */
  recordTurn(runId: string, turn: TurnTranscript): void {
    const run = stmt(this.db, 'SELECT group_folder, chat_jid, kind FROM runs WHERE id = ?').get(
      runId,
    ) as { group_folder: string; chat_jid: string | null; kind: string } | undefined;
    if (!run) return;
    const insert = stmt(
      this.db,
      'INSERT INTO run_transcripts (run_id, group_folder, chat_jid, role, text, ts) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const add = (role: TranscriptRole, text: string) => {
      if (text.trim()) insert.run(runId, run.group_folder, run.chat_jid, role, text, turn.at);
    };
    if (run.kind === 'task') add('prompt', turn.prompt);
    for (const t of turn.tools ?? [])
      add('tool', `${t.name}: ${t.summary}`.slice(0, MAX_TOOL_STEP_CHARS));
    for (const r of turn.replies) add('reply', r);
  }

  /** A run's transcript in the order it was written. */
  forRun(runId: string): TranscriptEntry[] {
    const rows = stmt(this.db, 'SELECT * FROM run_transcripts WHERE run_id = ? ORDER BY id').all(
      runId,
    ) as Row[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      group: r.group_folder,
      chatId: r.chat_jid,
      role: r.role,
      text: r.text,
      ts: r.ts,
    }));
  }
}
