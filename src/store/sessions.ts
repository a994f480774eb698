import { stmt, type Db } from './db.js';

/** The harness session id a group resumes (one per group and harness). */
export class SessionStore {
  constructor(private readonly db: Db) {}

  get(folder: string, harness: string): string | undefined {
    return stmt(this.db, 'SELECT session_id FROM sessions WHERE group_folder = ? AND harness = ?')
      .pluck()
      .get(folder, harness) as string | undefined;
  }

  set(folder: string, harness: string, sessionId: string, now: number): void {
    stmt(
      this.db,
      `INSERT INTO sessions (group_folder, harness, session_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(group_folder, harness) DO UPDATE SET session_id = excluded.session_id, updated_at = excluded.updated_at`,
    ).run(folder, harness, sessionId, now);
  }

  clear(folder: string, harness: string): void {
    stmt(this.db, 'DELETE FROM sessions WHERE group_folder = ? AND harness = ?').run(
      folder,
      harness,
    );
  }
}
