import type { Clock } from '../../src/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets queued promise callbacks and setImmediate work run (a few turns). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * A manual clock for the scheduler. Timers follow a monotonic clock, as Node's do; `now()` is
 * wall time = monotonic + offset, so `jump` can move wall time without firing timers (a clock
 * change, or a suspended machine whose timers did not advance).
 */
export class FakeClock implements Clock {
  private mono = 0;
  private offset: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(startWallMs: number) {
    this.offset = startWallMs;
  }

  now(): number {
    return this.mono + this.offset;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.mono + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Pending timers' wall-clock due times, earliest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at + this.offset).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing each due timer at its own time, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      const next = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      const [id, timer] = next;
      this.timers.delete(id);
      this.mono = Math.max(this.mono, timer.at);
      timer.fn();
      await flush();
    }
    this.mono = end;
    await flush();
  }

  /** Advances until wall time `wallMs`. */
  advanceTo(wallMs: number): Promise<void> {
    return this.advance(Math.max(0, wallMs - this.now()));
  }

  /** Moves wall time by `ms` without advancing timers (clock jump or suspend). */
  jump(ms: number): void {
    this.offset += ms;
  }
}

/**
 * Advances `clock` in steps of `stepMs` until `done` settles (or `maxMs` of fake time passed,
 * then throws): for work that keeps arming new timers while it runs (retries with backoff,
 * idle expiry after a turn), where one big advance would end before the work armed its next
 * timer. Returns what `done` resolved to.
 */
export async function driveUntil<T>(
  clock: FakeClock,
  done: Promise<T>,
  opts: { stepMs: number; maxMs: number },
): Promise<T> {
  let settled = false;
  const watched = done.finally(() => (settled = true));
  for (let t = 0; !settled; t += opts.stepMs) {
    if (t > opts.maxMs) throw new Error(`not done after ${opts.maxMs} ms of fake time`);
    await clock.advance(opts.stepMs);
  }
  return watched;
}
