import { join } from 'node:path';
import type { Logger } from 'pino';
import { UnsafePathError } from '../sandbox/errors.js';
import type { SafeDir } from '../sandbox/safe-dir.js';
import { safeCreateFile, safeLstat } from '../sandbox/safe-fs.js';
import type { ErrorsDir } from './errors-dir.js';
import type { IpcResult } from './request-handler.js';

/** How an answer went: written, or an earlier answer to the same id kept (never overwritten). */
export type AnswerOutcome = 'written' | 'kept' | 'failed';

export interface AnswerDeps {
  ipcRoot: string;
  errors: ErrorsDir;
  log: Logger;
  /** Recreates the group's queue dirs (responses/ gone, a symlink or a file). */
  repair: (folder: string) => void;
}

/**
 * Writes `responses/<id>.json` without ever replacing what is there. A regular file of that name
 * is an earlier answer to the same id (an agent that sent an id twice): it stays, so a correct
 * answer is never overwritten. Anything else there (a planted symlink, directory or FIFO) is
 * moved to errors/ with a reason, then the answer is written. The write never follows a symlink,
 * neither at the name nor at responses/ itself (see safeCreateFile). `held` is responses/ opened
 * once for a whole pass; when it fails (removed meanwhile) or responses/ is not a real
 * directory, `repair` recreates it and the write is tried again by path.
 */
export async function writeAnswer(
  deps: AnswerDeps,
  folder: string,
  id: string,
  result: IpcResult,
  held?: SafeDir,
  /** The file's stem when it is not the id (`<id>.final`: a decision the agent waited for). */
  stem: string = id,
): Promise<AnswerOutcome> {
  const dir = join(deps.ipcRoot, folder);
  const rel = `responses/${stem}.json`;
  const body =
    JSON.stringify(
      result.ok ? { id, ok: true, result: result.result } : { id, ok: false, error: result.error },
    ) + '\n';
  const log = deps.log.child({ group: folder, file: rel });
  let slot: SafeDir | undefined = held;
  let repaired = false;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      let made;
      try {
        made = slot
          ? await slot.createFile(`${stem}.json`, body)
          : await safeCreateFile(dir, rel, body);
      } catch (err) {
        const broken =
          err instanceof UnsafePathError || (err as NodeJS.ErrnoException).code === 'ENOENT';
        if (!broken) throw err;
        if (slot)
          slot = undefined; // the held directory is gone: by path from now on
        else if (!repaired) {
          deps.repair(folder);
          repaired = true;
        } else throw err;
        continue;
      }
      if (made === 'created') return 'written';
      const there = await (slot ? slot.lstat(`${stem}.json`) : safeLstat(dir, rel)).catch(
        () => undefined,
      );
      if (!there) continue; // taken away meanwhile: try again
      if (there.type === 'file') {
        log.warn('an answer with this id is already waiting; it is kept, not overwritten');
        return 'kept';
      }
      slot = undefined; // moved by path below, so written by path after
      await deps.errors.moveIn(
        folder,
        rel,
        `planted-${stem}.json`,
        `a ${there.type} stood where the answer to request "${id}" goes`,
        { quarantine: true },
      );
    }
    log.warn('the answer slot was taken again while answering; not answered');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not write the answer');
  }
  return 'failed';
}
