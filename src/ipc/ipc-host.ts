import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { IPC_DIRS, MAX_IPC_FILE_BYTES, requestFileSchema } from '../protocol/ipc.js';
import {
  safeReadDir,
  safeReadFile,
  safeRename,
  safeUnlink,
  safeWriteFile,
} from '../sandbox/safe-fs.js';
import type { Store } from '../store/store.js';
import type { IpcActor, IpcResult, RequestHandler } from './request-handler.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Turns a task file dropped into `tasks/` into a task; provided by the scheduler. */
export interface TaskFileSink {
  fromFile(actor: IpcActor, raw: unknown, fileName: string): IpcResult | Promise<IpcResult>;
}

export interface IpcHostOptions {
  ipcRoot: string;
  store: Store;
  handler: RequestHandler;
  log: Logger;
  tasks?: TaskFileSink;
  /** The conversation a live session of `group` holding `token` is answering. */
  conversationOf?(group: string, token: string): IpcActor['conversation'];
  /** Safety-net rescan period (inotify is the primary trigger). Default 5 minutes. */
  rescanMs?: number;
}

/**
 * The host side of the per-group file queues. Watches `requests/` and `tasks/` of every group
 * with inotify (plus a slow rescan), validates each file, acts with the authority of the
 * directory's group, and answers in `responses/`. Invalid files move to `errors/` with a reason.
 * Every file operation refuses symlinks: the sandbox owns these directories.
 */
export class IpcHost {
  private readonly watchers = new Map<string, FSWatcher[]>();
  /** Files being processed; a concurrent scan waits for them instead of skipping. */
  private readonly busy = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: IpcHostOptions) {}

  start(): void {
    this.rescan();
    this.timer = setInterval(() => this.rescan(), this.opts.rescanMs ?? 300_000).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const ws of this.watchers.values()) for (const w of ws) w.close();
    this.watchers.clear();
  }

  /** Makes sure a group's queues exist and are watched (called before each run too). */
  ensureGroup(folder: string): void {
    const dir = join(this.opts.ipcRoot, folder);
    for (const d of IPC_DIRS) mkdirSync(join(dir, d), { recursive: true });
    if (this.watchers.has(folder)) return;
    const ws = (['requests', 'tasks'] as const).map((kind) =>
      watch(join(dir, kind), () => void this.scan(folder, kind)).on('error', (err) =>
        this.opts.log.warn({ err, group: folder }, 'IPC watch failed; the rescan still covers it'),
      ),
    );
    this.watchers.set(folder, ws);
    void this.scan(folder, 'requests');
    void this.scan(folder, 'tasks');
  }

  /** Every known group, and every file in their queues (the safety net). */
  rescan(): void {
    for (const g of this.opts.store.groups.list()) this.ensureGroup(g.folder);
  }

  /** Processes every file currently in one queue; resolves when done (tests await it). */
  async scan(folder: string, kind: 'requests' | 'tasks'): Promise<void> {
    const dir = join(this.opts.ipcRoot, folder);
    let entries;
    try {
      entries = await safeReadDir(dir, kind);
    } catch (err) {
      this.opts.log.warn(
        { err: (err as Error).message, group: folder, kind },
        'IPC queue unreadable',
      );
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // a writer's temp file, renamed into place when complete
      const key = `${folder}/${kind}/${e.name}`;
      const inFlight = this.busy.get(key);
      if (inFlight) {
        await inFlight;
        continue;
      }
      const work = (async () => {
        try {
          if (e.type !== 'file')
            await this.reject(folder, kind, e.name, `not a regular file (${e.type})`);
          else await this.process(folder, kind, e.name);
        } catch (err) {
          this.opts.log.error({ err, group: folder, file: key }, 'IPC file could not be processed');
        } finally {
          this.busy.delete(key);
        }
      })();
      this.busy.set(key, work);
      await work;
    }
  }

  private actor(folder: string): IpcActor | undefined {
    const g = this.opts.store.groups.get(folder);
    return g && { group: g.folder, isMain: g.isMain };
  }

  private async process(folder: string, kind: 'requests' | 'tasks', name: string): Promise<void> {
    const dir = join(this.opts.ipcRoot, folder);
    const log = this.opts.log.child({ group: folder, file: `${kind}/${name}` });
    const actor = this.actor(folder);
    if (!actor)
      return this.reject(folder, kind, name, `no group "${folder}" (its IPC dir is stale)`);
    if (!name.endsWith('.json')) return this.reject(folder, kind, name, 'IPC files must be .json');
    const stem = name.slice(0, -'.json'.length);
    let raw: unknown;
    try {
      raw = JSON.parse(
        (await safeReadFile(dir, `${kind}/${name}`, { maxBytes: MAX_IPC_FILE_BYTES })).toString(
          'utf8',
        ),
      );
    } catch (err) {
      const reason = `unreadable or invalid JSON: ${(err as Error).message}`;
      const respondTo = ID_PATTERN.test(stem) ? stem : undefined;
      return this.reject(folder, kind, name, reason, respondTo, {
        ok: false,
        error: { code: 'invalid_json', message: reason },
      });
    }
    let id: string;
    let result: IpcResult;
    if (kind === 'tasks') {
      id = ID_PATTERN.test(stem) ? stem : `task-file-${Date.now()}`;
      if (!this.opts.tasks)
        result = {
          ok: false,
          error: { code: 'unavailable', message: 'the scheduler is not available in this build' },
        };
      else result = await this.opts.tasks.fromFile(actor, raw, name);
      if (!result.ok) return this.reject(folder, kind, name, result.error.message, id, result);
    } else {
      const parsed = requestFileSchema.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        const rawId = (raw as { id?: unknown } | null)?.id;
        const respondTo =
          typeof rawId === 'string' && ID_PATTERN.test(rawId)
            ? rawId
            : ID_PATTERN.test(stem)
              ? stem
              : undefined;
        return this.reject(
          folder,
          kind,
          name,
          `${i.path.join('.') || 'file'}: ${i.message}`,
          respondTo,
        );
      }
      id = parsed.data.id;
      const token = parsed.data.session;
      const conversation = token ? this.opts.conversationOf?.(folder, token) : undefined;
      result = await this.opts.handler.handle({ ...actor, conversation }, parsed.data);
      log.info(
        { op: parsed.data.op, ok: result.ok, ...(result.ok ? {} : { error: result.error.code }) },
        'IPC request handled',
      );
    }
    await this.respond(folder, id, result);
    await safeUnlink(dir, `${kind}/${name}`).catch(() => undefined);
  }

  private async respond(folder: string, id: string, result: IpcResult): Promise<void> {
    const body = result.ok
      ? { id, ok: true, result: result.result }
      : { id, ok: false, error: result.error };
    await safeWriteFile(
      join(this.opts.ipcRoot, folder),
      `responses/${id}.json`,
      JSON.stringify(body) + '\n',
    );
  }

  /** Moves a bad file to errors/ with `<name>.error.json`, and answers when it has an id. */
  private async reject(
    folder: string,
    kind: string,
    name: string,
    reason: string,
    respondTo?: string,
    result?: IpcResult,
  ): Promise<void> {
    const dir = join(this.opts.ipcRoot, folder);
    this.opts.log.warn({ group: folder, file: `${kind}/${name}`, reason }, 'IPC file rejected');
    const target = `errors/${name}`;
    await safeRename(dir, `${kind}/${name}`, target).catch(() =>
      safeUnlink(dir, `${kind}/${name}`).catch(() => undefined),
    );
    await safeWriteFile(
      dir,
      `errors/${name}.error.json`,
      JSON.stringify({ file: `${kind}/${name}`, reason, at: new Date().toISOString() }) + '\n',
    );
    if (respondTo)
      await this.respond(
        folder,
        respondTo,
        result ?? { ok: false, error: { code: 'invalid_request', message: reason } },
      );
  }
}
