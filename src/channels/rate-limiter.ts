/** Clock and sleep, injectable so tests run on fake time. */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LimiterClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface RateLimiterOptions {
  /** Least time between two sends to the same chat. */
  perChatIntervalMs: number;
  /** Most sends per minute across all chats of the channel (0: no global cap). */
  globalPerMinute: number;
  clock?: LimiterClock;
}

/**
 * Spaces a channel's sends: per chat, and within a global per-minute budget, and honours a
 * platform's 429 `retry-after` for one chat or the whole channel. `acquire` resolves when a send
 * may go; callers await it right before each API call. Waiting is one timer, never a poll.
 */
export class RateLimiter {
  private readonly nextAt = new Map<string, number>();
  private globalPausedUntil = 0;
  private readonly recent: number[] = [];
  private readonly clock: LimiterClock;

  constructor(private readonly opts: RateLimiterOptions) {
    this.clock = opts.clock ?? realClock;
  }

  async acquire(chat: string): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.recent.length && this.recent[0]! <= now - 60_000) this.recent.shift();
      const chatWait = (this.nextAt.get(chat) ?? 0) - now;
      const globalWait = this.globalPausedUntil - now;
      const budgetWait =
        this.opts.globalPerMinute > 0 && this.recent.length >= this.opts.globalPerMinute
          ? this.recent[0]! + 60_000 - now
          : 0;
      const wait = Math.max(chatWait, globalWait, budgetWait);
      if (wait <= 0) {
        this.nextAt.set(chat, now + this.opts.perChatIntervalMs);
        if (this.opts.globalPerMinute > 0) this.recent.push(now);
        return;
      }
      await this.clock.sleep(wait);
    }
  }

  /** The platform said "retry after `ms`": for this chat, or for every chat (`chat` omitted). */
  pause(ms: number, chat?: string): void {
    const until = this.clock.now() + ms;
    if (chat === undefined) this.globalPausedUntil = Math.max(this.globalPausedUntil, until);
    else this.nextAt.set(chat, Math.max(this.nextAt.get(chat) ?? 0, until));
  }
}
