import type { StorageProblem, StorageUnavailableError } from './storage-errors.js';

/** What status, `/api/status` and `/metrics` show about the store. */
export interface StorageReport {
  ok: boolean;
  /** Why writes fail (null when ok). */
  problem: StorageProblem | null;
  /** The last failure's message, naming the file or dir and what to do (null when ok). */
  lastError: string | null;
  /** When writes started failing (ms; null when ok). */
  since: number | null;
}

/** The store's write health: ok, or failing for a reason since a time. */
type HealthState =
  { name: 'ok' } | { name: 'failing'; problem: StorageProblem; lastError: string; since: number };

export type StorageChange =
  | { to: 'failing'; problem: StorageProblem; message: string; since: number }
  | { to: 'ok'; problem: StorageProblem; since: number; recoveredAt: number };

export interface HealthTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StorageHealthOptions {
  /**
   * Checks whether writes would work again (true: recovered). Called on a timer while
   * failing, first after `probeFirstMs`, then doubling up to `probeMaxMs`.
   */
  probe?: (problem: StorageProblem) => boolean;
  probeFirstMs?: number;
  probeMaxMs?: number;
  now?: () => number;
  timers?: HealthTimers;
}

const realTimers: HealthTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Tracks whether writes succeed. Writers report failures and successes; listeners hear each
 * transition once (ok → failing, a change of problem, failing → ok). While failing, a probe
 * on a backing-off timer notices recovery even when nothing else writes.
 */
export class StorageHealth {
  private state: HealthState = { name: 'ok' };
  private readonly listeners = new Set<(change: StorageChange) => void>();
  private probeTimer: unknown;
  private probeDelay: number;
  private readonly now: () => number;
  private readonly timers: HealthTimers;
  private closed = false;

  constructor(private readonly opts: StorageHealthOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.probeDelay = opts.probeFirstMs ?? 1000;
  }

  report(): StorageReport {
    const s = this.state;
    return s.name === 'ok'
      ? { ok: true, problem: null, lastError: null, since: null }
      : { ok: false, problem: s.problem, lastError: s.lastError, since: s.since };
  }

  get ok(): boolean {
    return this.state.name === 'ok';
  }

  /** Subscribes to transitions; returns the unsubscribe function. */
  onChange(listener: (change: StorageChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A write failed for a storage reason. */
  failed(err: StorageUnavailableError): void {
    const prev = this.state;
    if (prev.name === 'failing' && prev.problem === err.problem) {
      this.state = { ...prev, lastError: err.message };
      return;
    }
    const since = this.now();
    this.state = { name: 'failing', problem: err.problem, lastError: err.message, since };
    this.probeDelay = this.opts.probeFirstMs ?? 1000;
    this.armProbe();
    this.emit({ to: 'failing', problem: err.problem, message: err.message, since });
  }

  /** A write went through: storage works (again). */
  succeeded(): void {
    const prev = this.state;
    if (prev.name === 'ok') return;
    this.state = { name: 'ok' };
    if (this.probeTimer !== undefined) this.timers.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.emit({ to: 'ok', problem: prev.problem, since: prev.since, recoveredAt: this.now() });
  }

  /** Stops the probe timer (daemon stop). */
  close(): void {
    this.closed = true;
    if (this.probeTimer !== undefined) this.timers.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private armProbe(): void {
    if (!this.opts.probe || this.closed) return;
    if (this.probeTimer !== undefined) this.timers.clearTimeout(this.probeTimer);
    this.probeTimer = this.timers.setTimeout(() => {
      this.probeTimer = undefined;
      const s = this.state;
      if (s.name !== 'failing' || this.closed) return;
      let recovered: boolean;
      try {
        recovered = this.opts.probe!(s.problem);
      } catch {
        recovered = false;
      }
      if (recovered) return this.succeeded();
      this.probeDelay = Math.min(this.probeDelay * 2, this.opts.probeMaxMs ?? 30_000);
      this.armProbe();
    }, this.probeDelay);
  }

  private emit(change: StorageChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // a listener's failure must not stop the others or the writer
      }
    }
  }
}
