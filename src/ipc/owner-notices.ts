import type { Logger } from 'pino';

/** A kind of problem a group's IPC folder can have that the owner should hear about. */
export type IpcProblem = 'repaired' | 'repair-failed' | 'errors-capped';

/** Sends one notice to the owner (the outbox's notifyOwner: idempotent per key). */
export type OwnerNotifier = (key: string, text: string) => void;

/**
 * Tells the owner about a group's IPC problem at most once per group, problem and UTC day. The
 * outbox key carries the day too, so a restart on the same day does not repeat a notice; an
 * agent that breaks its folder in a loop costs the owner one message a day, not one per scan.
 */
export class OwnerNotices {
  private readonly sent = new Set<string>();
  private day = '';

  constructor(
    private readonly notify: OwnerNotifier | undefined,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Sends `text` unless this group's `problem` was told today; true when it was sent now. */
  tell(group: string, problem: IpcProblem, text: string): boolean {
    const day = new Date(this.now()).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.sent.clear();
      this.day = day;
    }
    const key = `ipc:${group}:${problem}:${day}`;
    if (this.sent.has(key)) return false;
    this.sent.add(key);
    if (!this.notify) return false;
    try {
      this.notify(key, text);
    } catch (err) {
      this.log.error({ err, group, problem }, 'could not queue the owner notice');
    }
    return true;
  }
}
