import type { Logger } from 'pino';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import { GroupError } from '../groups/errors.js';
import type { GroupService } from '../groups/group-service.js';
import { registerGroupArgs, sendMessageArgs, type RequestFile } from '../protocol/ipc.js';
import type { Store } from '../store/store.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeFileName } from '../channels/attachments.js';
import type { OutboundFile } from '../store/outbox.js';
import { safeReadFile } from '../sandbox/safe-fs.js';
import type { MemoryOps } from './memory-ops.js';

/** Largest file an agent may send (platforms cap lower; the adapter reports theirs). */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/**
 * Who is asking: the group is decided by the IPC directory the file was found in, never by its
 * content. `conversation` is the chat of the turn the asking session is answering (found by the
 * session token in the request): tools without an explicit chat act there.
 */
export interface IpcActor {
  group: string;
  isMain: boolean;
  conversation?: { chat: string; runId: string };
}

export type IpcResult =
  { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** Task operations, provided by the scheduler; absent → a clear "not available" answer. */
export interface TaskOps {
  handle(
    op: string,
    args: Record<string, unknown>,
    actor: IpcActor,
  ): IpcResult | Promise<IpcResult>;
}

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

export interface RequestHandlerDeps {
  /** Where group folders live, and where uploads are copied to (out of the sandbox's reach). */
  groupsDir: string;
  filesDir: string;
  store: Store;
  groups: GroupService;
  outbox: OutboxWorker;
  log: Logger;
  tasks?: TaskOps;
  /** search_history, remember, consolidate_memory; absent → "not available". */
  memory?: MemoryOps;
  /** The `delegate` op (src/delegation/); absent → "not available". */
  delegation?: { handle(actor: IpcActor, req: RequestFile): Promise<IpcResult> };
}

/**
 * Acts on one validated agent request with the actor's authority: a non-main group may message
 * only its own chats and manage only its own tasks; only main lists or registers groups, and
 * nothing makes a group main.
 */
export class RequestHandler {
  constructor(private readonly deps: RequestHandlerDeps) {}

  async handle(actor: IpcActor, req: RequestFile): Promise<IpcResult> {
    try {
      switch (req.op) {
        case 'send_message':
          return await this.sendMessage(actor, req);
        case 'list_groups':
          if (!actor.isMain) return fail('forbidden', 'only the main group may list groups');
          return {
            ok: true,
            result: this.deps.groups
              .list()
              .map((g) => ({ name: g.folder, chats: g.chats, isMain: g.isMain })),
          };
        case 'register_group':
          return this.registerGroup(actor, req.args);
        case 'search_history':
        case 'remember':
        case 'consolidate_memory':
          if (!this.deps.memory)
            return fail('unavailable', 'history search and memory are not available in this build');
          return await this.deps.memory.handle(req.op, req.args, actor);
        case 'delegate':
          if (!this.deps.delegation)
            return fail('unavailable', 'delegation is not available in this build');
          return await this.deps.delegation.handle(actor, req);
        default:
          if (!this.deps.tasks)
            return fail('unavailable', 'the scheduler is not available in this build');
          return await this.deps.tasks.handle(req.op, req.args, actor);
      }
    } catch (err) {
      if (err instanceof GroupError) return fail(err.code, err.message);
      this.deps.log.error({ err, group: actor.group, op: req.op }, 'IPC request failed');
      return fail('internal', 'the host could not complete the request; see the daemon log');
    }
  }

  private async sendMessage(actor: IpcActor, req: RequestFile): Promise<IpcResult> {
    const args = sendMessageArgs.safeParse(req.args);
    if (!args.success) return fail('invalid_args', args.error.issues[0]!.message);
    const group = this.deps.groups.get(actor.group);
    const chat = args.data.chat ?? actor.conversation?.chat;
    if (!chat)
      return fail(
        'no_chat',
        'this request comes from outside a conversation: name the chat to send to (chat: "<channel>:<id>")',
      );
    if (!actor.isMain && !group.chats.includes(chat)) {
      return fail(
        'forbidden',
        `group "${actor.group}" may only message its own chats (${group.chats.join(', ') || 'none'})`,
      );
    }
    const key = `ipc:${actor.group}:${req.id}`;
    const files = args.data.file ? [await this.copyUpload(actor.group, args.data.file, key)] : [];
    if (files[0] && 'error' in files[0]) return fail('invalid_file', files[0].error);
    const added = this.deps.outbox.enqueue({
      key,
      chatId: chat,
      text: args.data.text,
      files: files as OutboundFile[],
    });
    this.deps.outbox.kick();
    return { ok: true, result: { chat, queued: added > 0 ? 'new' : 'duplicate' } };
  }

  /**
   * Copies a file the agent wants to send out of its folder (read without following symlinks,
   * size-capped) into a host-only directory, so the sandbox cannot swap it before the upload.
   */
  private async copyUpload(
    group: string,
    file: string,
    key: string,
  ): Promise<OutboundFile | { error: string }> {
    const prefix = '/workspace/group/';
    const rel = file.startsWith(prefix) ? file.slice(prefix.length) : file;
    if (rel.startsWith('/') || rel.split('/').includes('..')) {
      return { error: `file must be a path inside /workspace/group (got ${file})` };
    }
    let data: Buffer;
    try {
      data = await safeReadFile(join(this.deps.groupsDir, group), rel, {
        maxBytes: MAX_UPLOAD_BYTES,
      });
    } catch (err) {
      return { error: `cannot send ${file}: ${(err as Error).message}` };
    }
    const dir = join(this.deps.filesDir, safeFileName(key));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = safeFileName(rel);
    const path = join(dir, name);
    writeFileSync(path, data, { mode: 0o600 });
    return { path, name };
  }

  private registerGroup(actor: IpcActor, raw: Record<string, unknown>): IpcResult {
    if (!actor.isMain) return fail('forbidden', 'only the main group may register groups');
    const args = registerGroupArgs.safeParse(raw);
    if (!args.success) return fail('invalid_args', args.error.issues[0]!.message);
    const g = this.deps.groups.add({
      name: args.data.name,
      chats: [args.data.chat],
      trigger: args.data.trigger,
      requiresTrigger: args.data.requiresTrigger,
    });
    return { ok: true, result: { name: g.folder, chats: g.chats } };
  }
}
