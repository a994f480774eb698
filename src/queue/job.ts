/**
 * The contract between the queue and the work it runs. A message turn and a task occurrence
 * are both Jobs; the queue knows nothing else about them.
 *
 * - `lane`: at most one job of a lane runs at a time (a group's conversation lane is the group's
 *   folder; an isolated task has a lane of its own).
 * - `key`: a job whose key equals a job already waiting in the same lane is dropped (the waiting
 *   one will see the same work: a chat's messages are read from its cursor when the job runs).
 * - `run(attempt)`: does the work; resolves when the work is committed, throws to be retried.
 *   `attempt` counts this job's own attempts (1-based), never anyone else's.
 * - `deadLetter(error, attempts)`: called once when every attempt failed; records the failure,
 *   moves past the work and tells the owner. It must not throw (a throw is logged).
 */
export interface Job {
  readonly lane: string;
  readonly key: string;
  /** The group the job belongs to (logs, status). */
  readonly group: string;
  run(attempt: number): Promise<void>;
  deadLetter(error: Error, attempts: number): Promise<void> | void;
}
