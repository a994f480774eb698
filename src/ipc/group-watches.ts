import { lstatSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { IPC_DIRS } from '../protocol/ipc.js';
import type { QueueKind } from './queue-file.js';

/** A group's inotify watches: its IPC folder (for repairs) and its two queues (for files). */
interface GroupWatch {
  root?: FSWatcher;
  queues: Map<QueueKind, { watcher: FSWatcher; ino: number }>;
}

export interface GroupWatchesOptions {
  ipcRoot: string;
  log: Logger;
  /** Something changed at a queue dir's name in the group's IPC folder (replaced, removed). */
  onFolderChange(folder: string): void;
  /** Something changed in a queue. */
  onQueueChange(folder: string, kind: QueueKind): void;
}

const QUEUES: readonly QueueKind[] = ['requests', 'tasks'];

/**
 * The inotify watches of the groups' IPC folders. A watch follows the directory it was set on,
 * so when the agent replaces a queue dir and the host recreates it, the queue is watched again
 * (told apart by inode). A watch that cannot be set is logged: the rescan still covers it.
 */
export class GroupWatches {
  private readonly groups = new Map<string, GroupWatch>();

  constructor(private readonly opts: GroupWatchesOptions) {}

  /** Watches the group's folder and queues; returns the queues that were not watched before. */
  update(folder: string): QueueKind[] {
    const root = join(this.opts.ipcRoot, folder);
    let w = this.groups.get(folder);
    if (!w) this.groups.set(folder, (w = { queues: new Map() }));
    const onError = (err: unknown) =>
      this.opts.log.warn({ err, group: folder }, 'IPC watch failed; the rescan still covers it');
    if (!w.root) {
      try {
        w.root = watch(root, (_event, name) => {
          if (name === null || (IPC_DIRS as readonly string[]).includes(String(name)))
            this.opts.onFolderChange(folder);
        }).on('error', onError);
      } catch (err) {
        onError(err);
      }
    }
    const fresh: QueueKind[] = [];
    for (const kind of QUEUES) {
      let ino: number;
      try {
        const st = lstatSync(join(root, kind)); // a direct child of the mount point: see ipc-dirs
        if (!st.isDirectory()) continue;
        ino = st.ino;
      } catch {
        continue;
      }
      const current = w.queues.get(kind);
      if (current?.ino === ino) continue;
      current?.watcher.close(); // the old directory was replaced: its watch sees nothing new
      fresh.push(kind);
      try {
        const watcher = watch(join(root, kind), () => this.opts.onQueueChange(folder, kind)).on(
          'error',
          onError,
        );
        w.queues.set(kind, { watcher, ino });
      } catch (err) {
        w.queues.delete(kind);
        onError(err);
      }
    }
    return fresh;
  }

  close(): void {
    for (const w of this.groups.values()) {
      w.root?.close();
      for (const q of w.queues.values()) q.watcher.close();
    }
    this.groups.clear();
  }
}
