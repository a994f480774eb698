import { systemClock, type Clock } from '../../clock.js';

export interface TypingOptions {
  /** Shows "typing…" in one chat once (a platform shows it for a few seconds). */
  send(chatId: string): Promise<void>;
  /** How often the indicator is sent again while on (a bit less than the platform shows it). */
  everyMs: number;
  /** A failed send (a typing hint is never worth a retry); default: ignored. */
  onError?(chatId: string, err: unknown): void;
  clock?: Clock;
}

/**
 * Keeps a typing indicator up per chat while at least one run there has it on: sent at once,
 * then every `everyMs` until the last run turns it off (runs are counted, so an isolated task
 * ending does not stop the indicator of a live conversation; more offs than ons are harmless).
 * There is no "stop typing" call: the platform hides it after a few seconds or at the next post.
 * Failures go to `onError` and the indicator goes on.
 */
export class TypingKeeper {
  private readonly active = new Map<string, { runs: number; timer: unknown }>();
  private readonly clock: Clock;

  constructor(private readonly opts: TypingOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  set(chatId: string, on: boolean): void {
    const entry = this.active.get(chatId);
    if (on) {
      if (entry) {
        entry.runs++;
        return;
      }
      const fresh = { runs: 1, timer: undefined as unknown };
      this.active.set(chatId, fresh);
      this.ping(chatId, fresh);
      return;
    }
    if (!entry) return;
    if (--entry.runs > 0) return;
    this.clock.clearTimeout(entry.timer);
    this.active.delete(chatId);
  }

  /** Whether `chatId` shows typing now (for tests and status). */
  isOn(chatId: string): boolean {
    return this.active.has(chatId);
  }

  /** The chats with an indicator on. */
  chats(): string[] {
    return [...this.active.keys()];
  }

  stopAll(): void {
    for (const { timer } of this.active.values()) this.clock.clearTimeout(timer);
    this.active.clear();
  }

  /** Sends now and arms the next send, for as long as this entry is the chat's current one. */
  private ping(chatId: string, entry: { timer: unknown }): void {
    this.opts.send(chatId).catch((err: unknown) => this.opts.onError?.(chatId, err));
    entry.timer = this.clock.setTimeout(() => {
      if (this.active.get(chatId) === entry) this.ping(chatId, entry);
    }, this.opts.everyMs);
  }
}
