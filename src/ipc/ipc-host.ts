import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { safeOpenDir } from '../sandbox/safe-dir.js';
import { safeLstat, safeReadDir, type FileOwner } from '../sandbox/safe-fs.js';
import type { Store } from '../store/store.js';
import { ErrorsDir, type GroupIpcCounts } from './errors-dir.js';
import { GroupWatches } from './group-watches.js';
import { QUARANTINE_PREFIX, repairGroupDirs, type DirRepair } from './ipc-dirs.js';
import { OwnerNotices, type OwnerNotifier } from './owner-notices.js';
import { PassGate } from './pass-gate.js';
import {
  AnswerWindow,
  QueueFiles,
  type FileOutcome,
  type PassDirs,
  type QueueKind,
  type TaskFileSink,
} from './queue-file.js';
import type { IpcActor, IpcResult, RequestHandler } from './request-handler.js';
import { writeAnswer } from './responses.js';

export type { TaskFileSink } from './queue-file.js';

/** Defaults of the IPC host's limits (see docs/ipc.md). */
export const IPC_DEFAULTS = {
  rescanMs: 300_000,
  errorsCap: 1000,
  tempFileGraceMs: 60_000,
} as const;

export interface IpcHostOptions {
  ipcRoot: string;
  store: Store;
  handler: Pick<RequestHandler, 'handle'>;
  log: Logger;
  tasks?: TaskFileSink;
  /** The conversation a live session of `group` holding `token` is answering. */
  conversationOf?(group: string, token: string): IpcActor['conversation'];
  /** Tells the owner (the outbox's notifyOwner); without it problems are only logged. */
  notifyOwner?: OwnerNotifier;
  /** Who a group's recreated queue dirs belong to (its sandbox uid, for a root daemon). */
  ownerOf?(folder: string): FileOwner | undefined;
  /**
   * Time and timers (the rescan, the recheck of temp files, the day of a notice); default the
   * system clock. `now()` is compared with files' modification times, so a fake clock must
   * start at the real time (the daemon's own clock option does not reach here).
   */
  clock?: Clock;
  /** Safety-net rescan period (inotify is the primary trigger). Default 5 minutes. */
  rescanMs?: number;
  /** Most entries kept in a group's errors/ (oldest out). Default 1000. */
  errorsCap?: number;
  /**
   * How long a dot-file (a writer's temp name) may stay in requests/ or tasks/ before it is
   * moved to errors/ as abandoned; a modification time as far in the future counts too.
   * Default 60 s.
   */
  tempFileGraceMs?: number;
}

/** The IPC part of `clawpod status`: totals, and the groups that have something to show. */
export interface IpcStatus {
  errorsCap: number;
  errorsFiles: number;
  quarantined: number;
  rotated: number;
  groups: Array<{ group: string } & GroupIpcCounts>;
}

type HostState = { name: 'created' } | { name: 'running'; rescan?: unknown } | { name: 'stopped' };

const QUEUES: readonly QueueKind[] = ['requests', 'tasks'];

/**
 * The host side of the per-group file queues. Watches `requests/` and `tasks/` of every group
 * with inotify (plus a slow rescan), validates each file, acts with the authority of the
 * directory's group, and answers in `responses/`. Bad files move to `errors/` with a reason.
 *
 * The sandbox owns these directories, so: every file operation refuses symlinks (safe-fs);
 * one pass per queue at a time (PassGate), so no file is handled twice and no answer is
 * overwritten; a queue dir that is not a real directory is set aside and recreated, the owner
 * told; one group's broken folder never throws out of here, nor stops another group's work.
 */
export class IpcHost {
  private state: HostState = { name: 'created' };
  private readonly watches: GroupWatches;
  private readonly gate = new PassGate();
  /** Per queue: one timer for the earliest young temp file to turn stale. */
  private readonly tempTimers = new Map<string, { at: number; handle: unknown }>();
  /** What the sync repair set aside, by its name, until it is moved into errors/. */
  private readonly setAside = new Map<string, string>();
  private readonly clock: Clock;
  private readonly notices: OwnerNotices;
  private readonly errors: ErrorsDir;
  private readonly files: QueueFiles;

  constructor(private readonly opts: IpcHostOptions) {
    this.clock = opts.clock ?? systemClock;
    this.watches = new GroupWatches({
      ipcRoot: opts.ipcRoot,
      log: opts.log,
      onFolderChange: (folder) => this.ensureGroup(folder),
      onQueueChange: (folder, kind) => void this.scan(folder, kind),
    });
    const now = () => this.clock.now();
    this.notices = new OwnerNotices(opts.notifyOwner, now, opts.log);
    this.errors = new ErrorsDir({
      ipcRoot: opts.ipcRoot,
      cap: opts.errorsCap ?? IPC_DEFAULTS.errorsCap,
      log: opts.log,
      notices: this.notices,
      now,
      repair: (folder) => this.ensureGroup(folder),
    });
    this.files = new QueueFiles({
      ...opts,
      errors: this.errors,
      answer: (folder, id, result, held) =>
        writeAnswer(
          {
            ipcRoot: opts.ipcRoot,
            errors: this.errors,
            log: opts.log,
            repair: (f) => this.ensureGroup(f),
          },
          folder,
          id,
          result,
          held,
        ),
    });
  }

  start(): void {
    if (this.state.name !== 'created') return;
    this.state = { name: 'running' };
    void this.rescan();
  }

  /** Stops watching and rescanning; resolves when the passes in progress have finished. */
  async stop(): Promise<void> {
    const was = this.state;
    this.state = { name: 'stopped' };
    if (was.name === 'running' && was.rescan !== undefined) this.clock.clearTimeout(was.rescan);
    for (const t of this.tempTimers.values()) this.clock.clearTimeout(t.handle);
    this.tempTimers.clear();
    this.watches.close();
    await this.gate.idle();
  }

  /**
   * Makes sure a group's queues are real directories and watched (called before each run too,
   * and whenever something changes in the group's IPC folder). Never throws.
   */
  ensureGroup(folder: string): void {
    if (this.stopped()) return;
    try {
      const repair = repairGroupDirs(
        this.opts.ipcRoot,
        folder,
        this.opts.ownerOf?.(folder),
        this.clock.now(),
      );
      this.report(folder, repair);
      if (repair.failed.some((f) => f.dir === '.')) return;
      for (const kind of this.watches.update(folder)) void this.scan(folder, kind);
      if (repair.quarantined.length) void this.tidy(folder);
    } catch (err) {
      this.opts.log.error({ err, group: folder }, 'IPC folder check failed');
    }
  }

  /**
   * The safety net: every known group's folder checked, every queue scanned, errors/ collected
   * and capped. One group's trouble is logged and does not stop the others. Never rejects.
   */
  async rescan(): Promise<void> {
    let groups: string[] = [];
    try {
      groups = this.opts.store.groups.list().map((g) => g.folder);
    } catch (err) {
      this.opts.log.error({ err }, 'IPC rescan could not list the groups');
    }
    for (const folder of groups) {
      if (this.stopped()) return;
      this.ensureGroup(folder);
      await Promise.all([...QUEUES.map((k) => this.scan(folder, k)), this.tidy(folder)]);
    }
    this.armRescan();
  }

  /**
   * Processes every file in one queue; resolves when a pass that started after this call is
   * done (tests await it). Passes of one queue never overlap: a call during a pass gets one
   * more pass after it, shared by every call meanwhile.
   */
  scan(folder: string, kind: QueueKind): Promise<void> {
    return this.gate.run(`${folder}/${kind}`, () => this.pass(folder, kind));
  }

  /**
   * The final answer to a request that was answered `pending` (it waited for the owner's
   * approval): `responses/<id>.final.json`, never replacing anything. Never rejects.
   */
  async answerFinal(folder: string, id: string, result: IpcResult): Promise<void> {
    if (this.stopped()) return;
    await writeAnswer(
      {
        ipcRoot: this.opts.ipcRoot,
        errors: this.errors,
        log: this.opts.log,
        repair: (f) => this.ensureGroup(f),
      },
      folder,
      id,
      result,
      undefined,
      `${id}.final`,
    );
  }

  /** Resolves when no pass runs or waits, for any queue (after a timer started one, say). */
  idle(): Promise<void> {
    return this.gate.idle();
  }

  /** Counts for `clawpod status`. */
  stats(): IpcStatus {
    const all = this.errors.all();
    const sum = (k: keyof GroupIpcCounts) => all.reduce((n, [, c]) => n + c[k], 0);
    return {
      errorsCap: this.opts.errorsCap ?? IPC_DEFAULTS.errorsCap,
      errorsFiles: sum('errorsFiles'),
      quarantined: sum('quarantined'),
      rotated: sum('rotated'),
      groups: all
        .filter(([, c]) => c.errorsFiles || c.quarantined || c.rotated)
        .map(([group, c]) => ({ group, ...c })),
    };
  }

  private stopped(): boolean {
    return this.state.name === 'stopped';
  }

  private armRescan(): void {
    if (this.state.name !== 'running') return;
    if (this.state.rescan !== undefined) this.clock.clearTimeout(this.state.rescan);
    this.state.rescan = this.clock.setTimeout(
      () => void this.rescan(),
      this.opts.rescanMs ?? IPC_DEFAULTS.rescanMs,
    );
  }

  private async pass(folder: string, kind: QueueKind): Promise<void> {
    if (this.stopped()) return;
    const log = this.opts.log;
    const groupDir = join(this.opts.ipcRoot, folder);
    let queue;
    let entries;
    try {
      queue = await safeOpenDir(groupDir, kind);
      entries = await queue.list();
    } catch (err) {
      await queue?.close();
      log.warn({ err: (err as Error).message, group: folder, kind }, 'IPC queue unreadable');
      this.ensureGroup(folder); // replaced by a file or a symlink: set it aside, recreate
      return;
    }
    const dirs: PassDirs = {
      queue,
      answers: await safeOpenDir(groupDir, 'responses').catch(() => undefined),
      window: new AnswerWindow(),
    };
    let rejected = 0;
    let recheckAt: number | undefined;
    // In name order: the agent's request ids start with a time stamp, so this is the order the
    // agent sent them in (readdir's own order is the file system's hash order).
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    try {
      for (const e of entries) {
        if (this.stopped()) break;
        try {
          let outcome: FileOutcome | number;
          if (e.name.startsWith('.')) outcome = await this.tempFile(folder, kind, e.name);
          else if (e.type !== 'file')
            outcome = await this.files.reject(
              folder,
              kind,
              e.name,
              `not a regular file (${e.type})`,
            );
          else outcome = await this.files.process(folder, kind, e.name, dirs);
          if (outcome === 'rejected') rejected++;
          else if (typeof outcome === 'number') recheckAt = Math.min(recheckAt ?? outcome, outcome);
        } catch (err) {
          log.error({ err, group: folder, file: `${kind}/${e.name}` }, 'IPC file not processed');
        }
      }
    } finally {
      await dirs.window.drain();
      await Promise.all([queue.close(), dirs.answers?.close()]);
    }
    if (recheckAt !== undefined) this.recheckAt(folder, kind, recheckAt);
    if (rejected) void this.tidy(folder);
  }

  /**
   * A dot-file is a writer's temp name, renamed into place when complete: left alone while
   * young; moved to errors/ once older than the grace time (or stamped that far ahead). Returns
   * when to look again for a young one.
   */
  private async tempFile(folder: string, kind: QueueKind, name: string) {
    const grace = this.opts.tempFileGraceMs ?? IPC_DEFAULTS.tempFileGraceMs;
    let st;
    try {
      st = await safeLstat(join(this.opts.ipcRoot, folder), `${kind}/${name}`);
    } catch {
      return 'vanished' as const; // renamed into place meanwhile
    }
    const now = this.clock.now();
    if (Math.abs(now - st.mtimeMs) <= grace) return st.mtimeMs + grace + 1;
    const reason = `"${name}" starts with "." (a temp name, never processed) and was left for more than ${grace / 1000} s: write ${kind}/<id>.json through a temp name and rename it into place`;
    return (await this.errors.moveIn(folder, `${kind}/${name}`, name, reason))
      ? ('rejected' as const)
      : ('vanished' as const);
  }

  private recheckAt(folder: string, kind: QueueKind, at: number): void {
    const key = `${folder}/${kind}`;
    const armed = this.tempTimers.get(key);
    if (armed && armed.at <= at) return;
    if (armed) this.clock.clearTimeout(armed.handle);
    const handle = this.clock.setTimeout(
      () => {
        this.tempTimers.delete(key);
        void this.scan(folder, kind);
      },
      Math.max(0, at - this.clock.now()),
    );
    this.tempTimers.set(key, { at, handle });
  }

  /** Moves what the repair set aside into errors/, then keeps errors/ under its cap. */
  private tidy(folder: string): Promise<void> {
    return this.gate.run(`${folder}/errors`, async () => {
      try {
        for (const e of await safeReadDir(this.opts.ipcRoot, folder)) {
          if (!e.name.startsWith(QUARANTINE_PREFIX)) continue;
          const reason =
            this.setAside.get(e.name) ??
            'found set aside in the IPC folder (a queue that was not a directory)';
          this.setAside.delete(e.name);
          await this.errors.moveIn(folder, e.name, e.name.slice(1), reason, { quarantine: true });
        }
        await this.errors.rotate(folder);
      } catch (err) {
        this.opts.log.warn(
          { err: (err as Error).message, group: folder },
          'IPC errors/ could not be tidied',
        );
        this.ensureGroup(folder); // errors/ itself may be what is broken
      }
    });
  }

  private report(folder: string, repair: DirRepair): void {
    const log = this.opts.log;
    for (const q of repair.quarantined) {
      // moveIn adds a symlink's target when it files the entry in errors/.
      const reason = `${q.dir}/ was a ${q.found}, not a directory: set aside and recreated`;
      this.setAside.set(q.movedTo, reason);
      log.warn({ group: folder, dir: q.dir, found: q.found, target: q.target }, `IPC ${reason}`);
      this.notices.tell(
        folder,
        'repaired',
        `⚠️ Group "${folder}" broke its IPC folder: ${reason}. Its requests are answered again; what stood there is kept in ipc/${folder}/errors/. The group's agent did this: look at what it runs.`,
      );
    }
    for (const f of repair.failed) {
      log.error({ group: folder, dir: f.dir, err: f.error }, 'IPC folder could not be repaired');
      this.notices.tell(
        folder,
        'repair-failed',
        `⚠️ Group "${folder}": its IPC folder could not be repaired (${f.dir === '.' ? 'the folder' : `${f.dir}/`}: ${f.error}). Its requests are not answered until it is fixed: make ipc/${folder}/${f.dir === '.' ? '' : `${f.dir}/`} a directory again.`,
      );
    }
  }
}
