import type { Logger } from 'pino';
import type { StorageProblem } from '../store/storage-errors.js';
import type { StorageChange, StorageHealth } from '../store/storage-health.js';
import type { OutboxWorker } from './outbox-worker.js';

export interface StorageNoticeOptions {
  health: StorageHealth;
  outbox: Pick<OutboxWorker, 'notifyOwner' | 'kick'>;
  log: Logger;
  /** The owner hears of one problem at most once per this many ms (default 1 h). */
  quietMs?: number;
  now?: () => number;
}

const what: Record<StorageProblem, string> = {
  busy: 'the database was locked by another process',
  disk_full: 'the disk was full',
  io: 'the disk failed to write',
};

/**
 * Makes storage trouble visible: every transition goes to the log, a full disk or an I/O error
 * is told to the owner once (through the outbox when it can still take a row, else the log at
 * error level, and then the owner hears it when storage recovers), and recovery wakes the
 * outbox. A locked database is only logged: it clears itself or shows in status. Returns the
 * unsubscribe function.
 */
export function watchStorage(opts: StorageNoticeOptions): () => void {
  const now = opts.now ?? Date.now;
  const quietMs = opts.quietMs ?? 3_600_000;
  const toldAt = new Map<StorageProblem, number>();
  /** A failure the owner could not be told about yet (the outbox refused the notice). */
  let owed: { problem: StorageProblem; message: string; since: number } | undefined;

  const tell = (key: string, text: string): boolean => {
    try {
      opts.outbox.notifyOwner(key, text);
      return true;
    } catch (err) {
      opts.log.error(
        { err: err instanceof Error ? err.message : String(err), notice: text },
        'could not queue the notice to the owner (the store refuses writes); it follows when storage recovers',
      );
      return false;
    }
  };

  const onChange = (change: StorageChange) => {
    if (change.to === 'failing') {
      const level = change.problem === 'busy' ? 'warn' : 'error';
      opts.log[level]({ problem: change.problem, err: change.message }, 'storage refuses writes');
      if (change.problem === 'busy') return;
      const last = toldAt.get(change.problem);
      if (last !== undefined && now() - last < quietMs) return;
      toldAt.set(change.problem, now());
      const text = `⚠️ Storage: ${change.message}. Until then new messages are refused (HTTP ${change.problem === 'disk_full' ? 507 : 503}).`;
      if (!tell(`storage:${change.problem}:${change.since}`, text))
        owed = { problem: change.problem, message: change.message, since: change.since };
      return;
    }
    opts.log.info(
      { problem: change.problem, failingMs: change.recoveredAt - change.since },
      'storage takes writes again',
    );
    opts.outbox.kick();
    if (owed) {
      const o = owed;
      owed = undefined;
      tell(
        `storage:${o.problem}:${o.since}:recovered`,
        `⚠️ Storage: ${what[o.problem]} from ${new Date(o.since).toISOString()} until ${new Date(change.recoveredAt).toISOString()}: ${o.message}. Writes work again. Messages sent meanwhile were refused (HTTP ${o.problem === 'disk_full' ? 507 : 503}) and need sending again; nothing accepted was lost.`,
      );
    }
  };
  return opts.health.onChange(onChange);
}
