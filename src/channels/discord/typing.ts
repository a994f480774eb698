/** Discord shows "typing…" for about 10 s per call; re-sent every 8 s while a run lasts. */
export const TYPING_REFRESH_MS = 8000;

/**
 * Keeps the typing indicator alive per chat while at least one run is active there (runs are
 * counted, so an isolated task ending does not stop the indicator of a live conversation).
 * Discord has no "stop typing" call: the indicator ends when the bot posts or ~10 s after the
 * last call. Failures are reported to `onError` and otherwise ignored.
 */
export class TypingKeeper {
  private readonly active = new Map<string, { runs: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly sendTyping: (chatJid: string) => Promise<void>,
    private readonly onError: (chatJid: string, err: unknown) => void,
    private readonly refreshMs = TYPING_REFRESH_MS,
  ) {}

  private ping(chatJid: string): void {
    this.sendTyping(chatJid).catch((err: unknown) => this.onError(chatJid, err));
  }

  set(chatJid: string, on: boolean): void {
    const entry = this.active.get(chatJid);
    if (on) {
      if (entry) {
        entry.runs++;
        return;
      }
      const timer = setInterval(() => this.ping(chatJid), this.refreshMs);
      timer.unref();
      this.active.set(chatJid, { runs: 1, timer });
      this.ping(chatJid);
      return;
    }
    if (!entry) return;
    if (--entry.runs > 0) return;
    clearInterval(entry.timer);
    this.active.delete(chatJid);
  }

  /** Chats with an indicator on (for tests and status). */
  chats(): string[] {
    return [...this.active.keys()];
  }

  stopAll(): void {
    for (const { timer } of this.active.values()) clearInterval(timer);
    this.active.clear();
  }
}
