import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { responseFileSchema, type RequestFile, type ResponseFile } from '../../protocol/ipc.js';

/**
 * The agent's side of the request queue: writes `requests/<id>.json` (temp name, then rename)
 * and waits for the host's `responses/<id>.json`. The host answers every request, so a missing
 * answer within `timeoutMs` means the host is down, and is reported as such.
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
    const responses = join(this.ipcDir, 'responses');
    const answerFile = join(responses, `${id}.json`);
    const answered = new Promise<ResponseFile>((resolve, reject) => {
      const timer = setTimeout(() => {
        watcher.close();
        reject(new Error(`the host did not answer ${op} within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      const check = async () => {
        let text: string;
        try {
          text = await readFile(answerFile, 'utf8');
        } catch {
          return;
        }
        clearTimeout(timer);
        watcher.close();
        await unlink(answerFile).catch(() => undefined);
        const parsed = responseFileSchema.safeParse(JSON.parse(text));
        if (parsed.success) resolve(parsed.data);
        else reject(new Error('the host wrote an unreadable response'));
      };
      const watcher = watch(responses, (_event, name) => {
        if (name === `${id}.json`) void check();
      });
      void check();
    });
    const tmp = join(this.ipcDir, 'requests', `.${id}.tmp`);
    const session = this.sessionToken ? { session: this.sessionToken } : {};
    await writeFile(tmp, JSON.stringify({ id, op, args, ...session }));
    await rename(tmp, join(this.ipcDir, 'requests', `${id}.json`));
    return answered;
  }
}
