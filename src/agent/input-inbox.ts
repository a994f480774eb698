import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, rename, unlink, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLOSE_FILE,
  MAX_IPC_FILE_BYTES,
  inputFileSchema,
  type InputFile,
} from '../protocol/ipc.js';

export type InboxItem = { kind: 'input'; input: InputFile } | { kind: 'close' };

/**
 * Follow-ups arriving in `<ipc>/input/` as `<id>.json` files (written by the host with a temp
 * name and a rename). Each valid file is read, removed, and handed on in id order; an invalid
 * one moves to `errors/` with a reason. Watched with inotify; a scan at start catches files
 * written before the watch.
 */
export class InputInbox {
  private watcher?: FSWatcher;
  private scanning = false;
  private again = false;
  private readonly seen = new Set<string>();

  constructor(
    private readonly ipcDir: string,
    private readonly onItem: (item: InboxItem) => void,
  ) {}

  start(): void {
    this.watcher = watch(join(this.ipcDir, 'input'), () => void this.scan());
    void this.scan();
  }

  stop(): void {
    this.watcher?.close();
  }

  async scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = true;
    try {
      do {
        this.again = false;
        const names = (await readdir(join(this.ipcDir, 'input'))).sort(
          (a, b) => parseInt(a, 10) - parseInt(b, 10),
        );
        for (const name of names) await this.take(name);
      } while (this.again);
    } finally {
      this.scanning = false;
    }
  }

  private async take(name: string): Promise<void> {
    if (name.startsWith('.') || this.seen.has(name)) return;
    const file = join(this.ipcDir, 'input', name);
    if (name === CLOSE_FILE) {
      this.seen.add(name);
      await unlink(file).catch(() => undefined);
      this.onItem({ kind: 'close' });
      return;
    }
    if (!name.endsWith('.json')) return this.reject(name, 'not a .json input file');
    try {
      const info = await stat(file);
      if (!info.isFile()) return this.reject(name, 'not a regular file');
      if (info.size > MAX_IPC_FILE_BYTES)
        return this.reject(name, `larger than ${MAX_IPC_FILE_BYTES} bytes`);
      const parsed = inputFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (!parsed.success)
        return this.reject(name, parsed.error.issues[0]?.message ?? 'invalid input');
      this.seen.add(name);
      await unlink(file);
      this.onItem({ kind: 'input', input: parsed.data });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      return this.reject(name, err instanceof Error ? err.message : String(err));
    }
  }

  private async reject(name: string, reason: string): Promise<void> {
    this.seen.add(name);
    const errors = join(this.ipcDir, 'errors');
    await rename(join(this.ipcDir, 'input', name), join(errors, name)).catch(() => undefined);
    await writeFile(
      join(errors, `${name}.error.json`),
      JSON.stringify({ file: `input/${name}`, reason }) + '\n',
    ).catch(() => undefined);
  }
}
