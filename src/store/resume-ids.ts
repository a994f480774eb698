import { stmt, type Db } from './db.js';

/**
 * The harness's own conversation id a group resumes (a Claude session id, a Codex thread id):
 * one per group and harness. Not to be confused with agent sessions (live processes).
 */
export class ResumeIdStore {
  constructor(private readonly db: Db) {}

  get(folder: string, harness: string): string | undefined {
    return stmt(this.db, 'SELECT resume_id FROM resume_ids WHERE group_folder = ? AND harness = ?')
      .pluck()
      .get(folder, harness) as string | undefined;
  }

  set(folder: string, harness: string, resumeId: string, now: number): void {
    stmt(
      this.db,
      `INSERT INTO resume_ids (group_folder, harness, resume_id, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(group_folder, harness) DO UPDATE SET resume_id = excluded.resume_id, updated_at = excluded.updated_at`,
    ).run(folder, harness, resumeId, now);
  }

  clear(folder: string, harness: string): void {
    stmt(this.db, 'DELETE FROM resume_ids WHERE group_folder = ? AND harness = ?').run(
      folder,
      harness,
    );
  }
}
