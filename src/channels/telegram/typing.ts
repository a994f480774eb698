/**
 * Typing indicators per chat. Telegram shows "typing…" for about 5 s after a sendChatAction,
 * so while a chat is on the action is re-sent every `intervalMs`. Counted: two runs in one chat
 * (a conversation and an isolated task) keep it on until both are off. Failures are ignored (a
 * typing hint is never worth a retry).
 */
export class TypingIndicators {
  private readonly active = new Map<string, { count: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly sendAction: (chat: string) => Promise<void>,
    private readonly intervalMs = 4000,
  ) {}

  set(chat: string, on: boolean): void {
    const entry = this.active.get(chat);
    if (on) {
      if (entry) {
        entry.count++;
        return;
      }
      const timer = setInterval(() => this.fire(chat), this.intervalMs).unref();
      this.active.set(chat, { count: 1, timer });
      this.fire(chat);
      return;
    }
    if (!entry) return;
    if (--entry.count > 0) return;
    clearInterval(entry.timer);
    this.active.delete(chat);
  }

  /** Whether `chat` currently shows typing (for tests and status). */
  isOn(chat: string): boolean {
    return this.active.has(chat);
  }

  stopAll(): void {
    for (const { timer } of this.active.values()) clearInterval(timer);
    this.active.clear();
  }

  private fire(chat: string): void {
    this.sendAction(chat).catch(() => undefined);
  }
}
