import { systemClock, type Clock } from '../../clock.js';

/**
 * How long to wait before the next attempt: `firstMs`, doubling per failure, at most `maxMs`,
 * each delay spread by up to ± `jitter` (0.2 = ±20 %) so many clients do not retry in step.
 */
export interface Backoff {
  firstMs: number;
  maxMs: number;
  jitter?: number;
}

/** The delay before retry `n` (1 = after the first failure): firstMs·2^(n−1), capped, spread. */
export function backoffDelay(b: Backoff, n: number, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.firstMs * 2 ** Math.max(0, n - 1));
  const jitter = b.jitter ?? 0;
  return jitter ? Math.round(base * (1 - jitter + random() * 2 * jitter)) : base;
}

/**
 * The link to a platform. `reconnecting` waits on one timer for the next attempt (`attempt`
 * failures in a row so far); `stopped` is final (`reason` set when a fatal error stopped it).
 */
export type LinkState =
  | { name: 'idle' }
  | { name: 'connecting'; attempt: number }
  | { name: 'connected'; since: number }
  | { name: 'reconnecting'; attempt: number; retryAt: number; error: unknown }
  | { name: 'stopped'; reason: string | null };

export interface ReconnectOptions {
  backoff: Backoff;
  /** Timers and `now` (tests drive a fake one); default the system clock. */
  clock?: Clock;
  /** Source of jitter; default Math.random. */
  random?: () => number;
  /**
   * One attempt at opening the link (`attempt`: failures in a row before it, 0 at first).
   * Resolves once the link is open, rejects with why not. A link that drops later is reported
   * with `lost`. It may call `stop` (a fatal error) before it rejects.
   */
  open(attempt: number): Promise<void>;
  /** A wait of its own for some errors (a revoked token: minutes); undefined: the backoff. */
  delayFor?(error: unknown, attempt: number): number | undefined;
  /** After every change of state (health, logs); `reconnecting` carries the error. */
  onState?(state: LinkState): void;
}

/**
 * Keeps a link to a platform open: one attempt at a time, and after a failed attempt or a lost
 * link another one after the backoff, until `stop`. Counts failures in a row (reset when an
 * attempt succeeds) for the backoff. Contract: never two attempts in flight, never a timer left
 * after `stop`, never a rejection to the caller (failures are states). A link lost while its
 * attempt is still running (a drop between "hello" and the end of `open`) counts as that
 * attempt's failure.
 */
export class Reconnector {
  private current: LinkState = { name: 'idle' };
  private failures = 0;
  private timer: unknown;
  private lostWhileOpening: { error: unknown } | undefined;
  /** Bumped by `stop`: an attempt begun before it is disregarded when it settles. */
  private generation = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: ReconnectOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get state(): LinkState {
    return this.current;
  }

  get connected(): boolean {
    return this.current.name === 'connected';
  }

  get stopped(): boolean {
    return this.current.name === 'stopped';
  }

  /**
   * Makes the first attempt and resolves once it settled (a failure schedules the next). A no-op
   * while running; after `stop` it starts afresh.
   */
  async start(): Promise<void> {
    if (this.current.name !== 'idle' && this.current.name !== 'stopped') return;
    this.failures = 0;
    await this.attempt();
  }

  /**
   * The open link dropped: another attempt after the backoff. While an attempt runs, it makes
   * that attempt fail; while waiting or stopped, it is ignored.
   */
  lost(error: unknown): void {
    if (this.current.name === 'connecting') this.lostWhileOpening ??= { error };
    else if (this.current.name === 'connected') this.failed(error);
  }

  /** Forgets the failures so far: the next wait is the first delay again (a planned restart). */
  resetBackoff(): void {
    this.failures = 0;
  }

  /** Stops for good: no attempt starts after this; an attempt in flight is disregarded. */
  stop(reason: string | null = null): void {
    if (this.current.name === 'stopped') return;
    this.generation++;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.set({ name: 'stopped', reason });
  }

  private async attempt(): Promise<void> {
    const generation = this.generation;
    const mine = () => generation === this.generation && this.current.name === 'connecting';
    this.lostWhileOpening = undefined;
    this.set({ name: 'connecting', attempt: this.failures });
    try {
      await this.opts.open(this.failures);
    } catch (err) {
      if (mine()) this.failed(err);
      return;
    }
    if (!mine()) return;
    // Set by `lost` while `open` ran (TypeScript keeps the narrowing from before the await).
    const lost = this.lostWhileOpening as { error: unknown } | undefined;
    if (lost) return this.failed(lost.error);
    this.failures = 0;
    this.set({ name: 'connected', since: this.clock.now() });
  }

  private failed(error: unknown): void {
    this.failures++;
    const delay =
      this.opts.delayFor?.(error, this.failures) ??
      backoffDelay(this.opts.backoff, this.failures, this.opts.random);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.current.name === 'reconnecting') void this.attempt();
    }, delay);
    this.set({
      name: 'reconnecting',
      attempt: this.failures,
      retryAt: this.clock.now() + delay,
      error,
    });
  }

  private set(state: LinkState): void {
    this.current = state;
    this.opts.onState?.(state);
  }
}
