import type { Logger } from 'pino';
import { MAX_IPC_FILE_BYTES, requestFileSchema } from '../protocol/ipc.js';
import type { SafeDir } from '../sandbox/safe-dir.js';
import type { Store } from '../store/store.js';
import type { ErrorsDir } from './errors-dir.js';
import type { IpcActor, IpcResult, RequestHandler } from './request-handler.js';
import type { AnswerOutcome } from './responses.js';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Turns a task file dropped into `tasks/` into a task; provided by the scheduler. */
export interface TaskFileSink {
  fromFile(actor: IpcActor, raw: unknown, fileName: string): IpcResult | Promise<IpcResult>;
}

export type QueueKind = 'requests' | 'tasks';

/** What became of one queue file: answered, moved to errors/, or gone before it was read. */
export type FileOutcome = 'answered' | 'rejected' | 'vanished';

export interface QueueFileDeps {
  ipcRoot: string;
  store: Store;
  handler: Pick<RequestHandler, 'handle'>;
  tasks?: TaskFileSink;
  conversationOf?(group: string, token: string): IpcActor['conversation'];
  errors: ErrorsDir;
  answer(folder: string, id: string, result: IpcResult, held?: SafeDir): Promise<AnswerOutcome>;
  log: Logger;
}

/**
 * Answers still being written while the pass goes on to the next file (requests are still
 * handled one after another, in order). Bounded; a pass drains it before it ends, so the next
 * pass never lists a request whose answer is still on its way.
 */
export class AnswerWindow {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly max = 8) {}

  /** Adds `work` (which must not reject); waits while the window is full. */
  async add(work: Promise<void>): Promise<void> {
    const p: Promise<void> = work.finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    while (this.inFlight.size >= this.max) await Promise.race(this.inFlight);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

/** What one pass holds open for the files it handles. */
export interface PassDirs {
  /** The queue dir (requests/ or tasks/), opened once for the pass. */
  queue: SafeDir;
  /** responses/, opened once for the pass; absent when it could not be opened. */
  answers?: SafeDir;
  window: AnswerWindow;
}

const isGone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Validates, acts on and answers one file of a group's queue, with the authority of the
 * directory's group. The caller makes sure no other pass handles the same queue at the same time,
 * so a file that is gone when read was withdrawn by the agent: it is skipped, not reported.
 */
export class QueueFiles {
  constructor(private readonly deps: QueueFileDeps) {}

  /** Handles one file of `dirs.queue`; its answer is written while the pass goes on. */
  async process(
    folder: string,
    kind: QueueKind,
    name: string,
    dirs: PassDirs,
  ): Promise<FileOutcome> {
    const g = this.deps.store.groups.get(folder);
    if (!g) return this.reject(folder, kind, name, `no group "${folder}" (its IPC dir is stale)`);
    const actor: IpcActor = { group: g.folder, isMain: g.isMain };
    if (!name.endsWith('.json')) return this.reject(folder, kind, name, 'IPC files must be .json');
    const stem = name.slice(0, -'.json'.length);
    const stemId = ID_PATTERN.test(stem) ? stem : undefined;
    let raw: unknown;
    try {
      const bytes = await dirs.queue.readFile(name, { maxBytes: MAX_IPC_FILE_BYTES });
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      if (isGone(err)) return 'vanished';
      const reason = `unreadable or invalid JSON: ${(err as Error).message}`;
      return this.reject(folder, kind, name, reason, stemId, {
        ok: false,
        error: { code: 'invalid_json', message: reason },
      });
    }
    let id: string;
    let result: IpcResult;
    if (kind === 'tasks') {
      id = stemId ?? `task-file-${Date.now()}`;
      result = this.deps.tasks
        ? await this.deps.tasks.fromFile(actor, raw, name)
        : {
            ok: false,
            error: { code: 'unavailable', message: 'the scheduler is not available in this build' },
          };
      if (!result.ok) return this.reject(folder, kind, name, result.error.message, id, result);
    } else {
      const parsed = requestFileSchema.safeParse(raw);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        const rawId = (raw as { id?: unknown } | null)?.id;
        const respondTo = typeof rawId === 'string' && ID_PATTERN.test(rawId) ? rawId : stemId;
        const reason = `${i.path.join('.') || 'file'}: ${i.message}`;
        return this.reject(folder, kind, name, reason, respondTo);
      }
      id = parsed.data.id;
      const token = parsed.data.session;
      const conversation = token ? this.deps.conversationOf?.(folder, token) : undefined;
      result = await this.deps.handler.handle({ ...actor, conversation }, parsed.data);
      this.deps.log.info(
        {
          group: folder,
          file: `${kind}/${name}`,
          op: parsed.data.op,
          ok: result.ok,
          ...(result.ok ? {} : { error: result.error.code }),
        },
        'IPC request handled',
      );
    }
    // The answer first, then the request goes: a crash between them handles it again, and the
    // answer already written is kept (send_message is idempotent per request id anyway).
    await dirs.window.add(
      this.deps
        .answer(folder, id, result, dirs.answers)
        .then(() => dirs.queue.unlink(name))
        .catch(() => undefined),
    );
    return 'answered';
  }

  /**
   * Moves a bad file to errors/ with `<name>.error.json`, and answers when it has an id (an
   * answer already waiting under that id is kept: see writeAnswer).
   */
  async reject(
    folder: string,
    kind: QueueKind,
    name: string,
    reason: string,
    respondTo?: string,
    result?: IpcResult,
  ): Promise<FileOutcome> {
    const moved = await this.deps.errors.moveIn(folder, `${kind}/${name}`, name, reason);
    if (!moved) return 'vanished';
    if (respondTo)
      await this.deps.answer(
        folder,
        respondTo,
        result ?? { ok: false, error: { code: 'invalid_request', message: reason } },
      );
    return 'rejected';
  }
}
