import { systemClock, type Clock } from '../../clock.js';

export interface TypingOptions {
  /** Shows "typing…" in one chat once (a platform shows it for a few seconds). */
  send(chatJid: string): Promise<void>;
  /** How often the indicator is sent again while on (a bit less than the platform shows it). */
  everyMs: number;
  /** A failed send (a typing hint is never worth a retry); default: ignored. */
  onError?(chatJid: string, err: unknown): void;
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

  set(chatJid: string, on: boolean): void {
    const entry = this.active.get(chatJid);
    if (on) {
      if (entry) {
        entry.runs++;
        return;
      }
      const fresh = { runs: 1, timer: undefined as unknown };
      this.active.set(chatJid, fresh);
      this.ping(chatJid, fresh);
      return;
    }
    if (!entry) return;
    if (--entry.runs > 0) return;
    this.clock.clearTimeout(entry.timer);
    this.active.delete(chatJid);
  }

  /** Whether `chatJid` shows typing now (for tests and status). */
  isOn(chatJid: string): boolean {
    return this.active.has(chatJid);
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
  private ping(chatJid: string, entry: { timer: unknown }): void {
    this.opts.send(chatJid).catch((err: unknown) => this.opts.onError?.(chatJid, err));
    entry.timer = this.clock.setTimeout(() => {
      if (this.active.get(chatJid) === entry) this.ping(chatJid, entry);
    }, this.opts.everyMs);
  }
}
