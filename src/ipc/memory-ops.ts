import type { Logger } from 'pino';
import { HistorySearchError, MemoryFileError } from '../memory/errors.js';
import { parseWhen, type HistorySearch } from '../memory/history-search.js';
import type { MemoryFiles } from '../memory/memory-file.js';
import { consolidateMemoryArgs, rememberArgs, searchHistoryArgs } from '../protocol/ipc.js';
import type { IpcActor, IpcResult } from './request-handler.js';

export interface MemoryOpsDeps {
  history: HistorySearch;
  files: MemoryFiles;
  /** The harness a group runs when it names none (decides CLAUDE.md or AGENTS.md). */
  harnessOf(group: string): string;
  timezone: string;
  now(): number;
  log: Logger;
}

const fail = (code: string, message: string): IpcResult => ({
  ok: false,
  error: { code, message },
});

/**
 * `search_history`, `remember` and `consolidate_memory` with the asking group's authority: a
 * group searches its own chats and runs (main: all, each hit marked with its group) and changes
 * only its own memory file, in its own folder, through safe-fs.
 */
export class MemoryOps {
  constructor(private readonly deps: MemoryOpsDeps) {}

  async handle(op: string, args: Record<string, unknown>, actor: IpcActor): Promise<IpcResult> {
    try {
      if (op === 'search_history') return this.search(args, actor);
      if (op === 'remember') {
        const a = rememberArgs.safeParse(args);
        if (!a.success) return fail('invalid_args', a.error.issues[0]!.message);
        const result = await this.deps.files.remember(
          actor.group,
          this.deps.harnessOf(actor.group),
          a.data.fact,
        );
        return { ok: true, result };
      }
      if (op === 'consolidate_memory') {
        const a = consolidateMemoryArgs.safeParse(args);
        if (!a.success) return fail('invalid_args', a.error.issues[0]!.message);
        const result = await this.deps.files.consolidate(
          actor.group,
          this.deps.harnessOf(actor.group),
          a.data.content,
        );
        this.deps.log.info(
          { group: actor.group, changed: result.changed },
          'memory file consolidated by its agent',
        );
        return { ok: true, result };
      }
      return fail('unknown_op', `no memory op ${op}`);
    } catch (err) {
      if (err instanceof HistorySearchError || err instanceof MemoryFileError) {
        if (err instanceof MemoryFileError && err.code === 'unsafe_path')
          this.deps.log.warn({ group: actor.group, op }, err.message);
        return fail(err.code, err.message);
      }
      throw err;
    }
  }

  private search(raw: Record<string, unknown>, actor: IpcActor): IpcResult {
    const a = searchHistoryArgs.safeParse(raw);
    if (!a.success) {
      const i = a.error.issues[0]!;
      return fail('invalid_args', `${i.path.join('.') || 'args'}: ${i.message}`);
    }
    const { timezone, now } = this.deps;
    const when = (v: string | undefined, endOfDay = false) =>
      v === undefined ? undefined : parseWhen(v, timezone, now(), { endOfDay });
    const result = this.deps.history.search(
      { kind: 'agent', group: actor.group, isMain: actor.isMain },
      {
        query: a.data.query,
        chat: a.data.chat,
        since: when(a.data.since),
        until: when(a.data.until, true),
        limit: a.data.limit,
      },
    );
    return { ok: true, result };
  }
}
