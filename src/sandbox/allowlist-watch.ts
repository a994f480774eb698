/**
 * Notices changes of the mount allowlist file (inotify on its folder, so an editor's
 * write-then-rename is seen too). The daemon ends the live sessions of groups with mounts then:
 * a root or read-write permission taken away must not stay mounted in a warm session until it
 * goes idle. Armed lazily, by the first sandbox started with extra mounts (the folder exists by
 * then: that start read the file).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/** The watch's lifecycle. */
type WatchState = { name: 'idle' } | { name: 'watching'; watcher: FSWatcher } | { name: 'closed' };

export class AllowlistWatch {
  private state: WatchState = { name: 'idle' };

  constructor(
    private readonly file: string,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  /** Starts watching unless it already does (or was closed); a folder that is missing is tried again at the next arm(). */
  arm(): void {
    if (this.state.name !== 'idle') return;
    const name = basename(this.file);
    try {
      const watcher = watch(dirname(this.file), (_event, changed) => {
        // No name: the platform does not say what changed; assume it was the file.
        if (changed === null || changed === name) this.onChange();
      });
      watcher.on('error', (err) => {
        this.log.warn({ err, file: this.file }, 'stopped watching the mount allowlist');
        watcher.close();
        if (this.state.name === 'watching') this.state = { name: 'idle' };
      });
      this.state = { name: 'watching', watcher };
    } catch (err) {
      this.log.debug({ err, file: this.file }, 'cannot watch the mount allowlist yet');
    }
  }

  close(): void {
    if (this.state.name === 'watching') this.state.watcher.close();
    this.state = { name: 'closed' };
  }
}
