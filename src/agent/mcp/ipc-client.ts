import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestFile } from '../../protocol/ipc.js';
import {
  pendingAnswerSchema,
  responseFileSchema,
  type ResponseFile,
} from '../../protocol/ipc-answers.js';

/** Added to an approval's wait, for the decision to be written and seen. */
const PENDING_MARGIN_MS = 60_000;

/**
 * The agent's side of the request queue: writes `requests/<id>.json` (temp name, then rename)
 * and waits for the host's `responses/<id>.json`. The host answers every request, so a missing
 * answer within `timeoutMs` means the host is down, and is reported as such.
 *
 * A request the owner must approve first is answered `{pending: {approval, waitMs}}`: the
 * client then waits for `responses/<id>.final.json` for as long as the approval can take.
 */
export class IpcClient {
  constructor(
    private readonly ipcDir: string,
    /** The session's capability (see StartRequest.sessionToken); absent for scripts. */
    private readonly sessionToken?: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async request(op: RequestFile['op'], args: Record<string, unknown>): Promise<ResponseFile> {
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const first = this.answer(id, `${id}.json`, this.timeoutMs, op);
    const tmp = join(this.ipcDir, 'requests', `.${id}.tmp`);
    const session = this.sessionToken ? { session: this.sessionToken } : {};
    await writeFile(tmp, JSON.stringify({ id, op, args, ...session }));
    await rename(tmp, join(this.ipcDir, 'requests', `${id}.json`));
    const answer = await first;
    const pending = answer.ok
      ? pendingAnswerSchema.safeParse((answer.result as { pending?: unknown } | null)?.pending)
      : undefined;
    if (!pending?.success) return answer;
    return this.answer(id, `${id}.final.json`, pending.data.waitMs + PENDING_MARGIN_MS, op);
  }

  /** Waits for `responses/<name>`, reads and removes it. */
  private answer(id: string, name: string, timeoutMs: number, op: string): Promise<ResponseFile> {
    const responses = join(this.ipcDir, 'responses');
    const answerFile = join(responses, name);
    return new Promise<ResponseFile>((resolve, reject) => {
      const timer = setTimeout(() => {
        watcher.close();
        reject(new Error(`the host did not answer ${op} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      let done = false;
      const check = async () => {
        let text: string;
        try {
          text = await readFile(answerFile, 'utf8');
        } catch {
          return;
        }
        if (done) return;
        done = true;
        clearTimeout(timer);
        watcher.close();
        await unlink(answerFile).catch(() => undefined);
        const parsed = responseFileSchema.safeParse(JSON.parse(text));
        if (parsed.success && parsed.data.id === id) resolve(parsed.data);
        else reject(new Error('the host wrote an unreadable response'));
      };
      const watcher = watch(responses, (_event, file) => {
        if (file === name) void check();
      });
      void check();
    });
  }
}
