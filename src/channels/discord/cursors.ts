import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const fileSchema = z.record(z.string().regex(/^\d+$/), z.string().regex(/^\d+$/));

/** Snowflakes grow with time: compare them as numbers. */
export const newer = (a: string, b: string): boolean => BigInt(a) > BigInt(b);

/**
 * Per Discord channel, the id of the newest message handed to the store: where catching up
 * starts after a fresh gateway session (Discord does not redeliver what was posted meanwhile).
 * Kept in a small JSON file, written atomically at most once per `flushMs` and on `close`. A
 * cursor that lags (a crash before the write) only makes catching up re-read messages the store
 * already has, which it ignores.
 */
export class ChannelCursors {
  private readonly ids = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly flushMs = 1000,
  ) {
    if (!file) return;
    try {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) for (const [k, v] of Object.entries(parsed.data)) this.ids.set(k, v);
    } catch {
      // No file yet (or unreadable): nothing to catch up on.
    }
  }

  get(channelId: string): string | undefined {
    return this.ids.get(channelId);
  }

  /** The `limit` channels with the most recent activity, newest first. */
  recent(limit: number): Array<{ channelId: string; after: string }> {
    return [...this.ids.entries()]
      .sort(([, a], [, b]) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0))
      .slice(0, limit)
      .map(([channelId, after]) => ({ channelId, after }));
  }

  advance(channelId: string, messageId: string): void {
    const at = this.ids.get(channelId);
    if (at && !newer(messageId, at)) return;
    this.ids.set(channelId, messageId);
    if (this.file && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  forget(channelId: string): void {
    this.ids.delete(channelId);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.ids)), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
