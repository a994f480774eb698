/**
 * The daemon's view of time, injected so tests and benchmarks can drive it (the scheduler, the
 * queue's retry timers, agent sessions' idle expiry and turn time limits). `now` is wall time
 * (UTC epoch ms, like Date.now); timers are relative delays like setTimeout.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Date.now and unref'd Node timers (a pending timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The longest delay Node's setTimeout accepts (larger values fire at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
