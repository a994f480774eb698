import type { Logger } from 'pino';
import { backoffDelay } from './backoff.js';
import { systemClock, type Clock } from '../clock.js';
import type { Job } from './job.js';

export interface GroupQueueOptions {
  maxConcurrent: number;
  retry: { baseDelayMs: number; maxAttempts: number };
  log: Logger;
  /** Retry timers (tests drive them with a fake clock). */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/** A lane's lifecycle: explicit states, one transition at a time. */
type LaneState =
  | { name: 'idle' }
  | { name: 'waiting' }
  | {
      name: 'running';
      job: Job;
      attempt: number;
      done: Promise<void>;
      /**
       * Whether it holds a global slot: not while it waits on work it lent its slot to, nor
       * once it released it (its agent answered; only its commit is left).
       */
      slot: 'held' | 'lent' | 'reclaiming' | 'released' | 'ended';
      /** How many waits (see lend) are in progress. */
      lends: number;
    }
  | { name: 'backoff'; job: Job; attempt: number; timer: unknown };

interface Lane {
  id: string;
  state: LaneState;
  /** Waiting jobs with the attempt they start at (a retried job keeps its own count). */
  pending: Array<{ job: Job; attempt: number }>;
}

/**
 * Per-lane FIFO of {@link Job}s with a global cap on concurrent jobs. A failed job retries after
 * 5 s, 10 s, 20 s… on its own timer (never waiting for new traffic), then is dead-lettered.
 */
export class GroupQueue {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with work, waiting for a global slot, in arrival order. */
  private readonly waiting: string[] = [];
  /** Running jobs whose wait ended, taking their slot back: served before `waiting`. */
  private readonly reclaiming: Array<{ lane: Lane; resume: () => void }> = [];
  private running = 0;
  private accepting = true;
  private readonly timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly opts: GroupQueueOptions) {
    this.timers = opts.clock ?? systemClock;
  }

  /** Adds a job; returns false when the queue no longer accepts work (shutting down). */
  enqueue(job: Job): boolean {
    if (!this.accepting) return false;
    const lane = this.lane(job.lane);
    if (!lane.pending.some((p) => p.job.key === job.key)) lane.pending.push({ job, attempt: 1 });
    if (lane.state.name === 'idle') this.makeWaiting(lane);
    this.pump();
    return true;
  }

  /**
   * The job running in `laneId` waits on `until` — work it queued and cannot go on without
   * (a delegate run): its global slot is lent meanwhile, so that work can start even when
   * every slot is taken by jobs waiting like this one (no deadlock at the cap). When `until`
   * settles the job takes a slot back, first in line before any waiting lane, and this
   * resolves (or rejects) as `until` did. A lane not running just waits.
   */
  async lend<T>(laneId: string, until: Promise<T>): Promise<T> {
    const lane = this.lanes.get(laneId);
    const s = lane?.state;
    if (!lane || s?.name !== 'running') return until;
    s.lends++;
    if (s.slot === 'held') {
      s.slot = 'lent';
      this.running--;
      this.pump();
    }
    try {
      return await until;
    } finally {
      await this.reclaim(lane, s);
    }
  }

  /**
   * The job running in `laneId` is done with its global slot: its agent answered and only its
   * commit is left, which needs no agent. Waiting work starts now (its first write shares that
   * commit's fsync); the lane stays busy until the job returns. Idempotent.
   */
  release(laneId: string): void {
    const s = this.lanes.get(laneId)?.state;
    if (s?.name !== 'running' || s.slot !== 'held') return;
    s.slot = 'released';
    this.running--;
    this.pump();
  }

  /** The end of one wait: the last one takes the slot back (at once, or first in line). */
  private reclaim(lane: Lane, s: Extract<LaneState, { name: 'running' }>): Promise<void> {
    s.lends--;
    if (s.lends > 0 || s.slot !== 'lent' || lane.state !== s) return Promise.resolve();
    if (this.running < this.opts.maxConcurrent) {
      s.slot = 'held';
      this.running++;
      return Promise.resolve();
    }
    s.slot = 'reclaiming';
    return new Promise<void>((resume) => this.reclaiming.push({ lane, resume }));
  }

  /** True when a job waits for a global slot (idle agent sessions should make room). */
  hasWaitingWork(): boolean {
    return this.waiting.length > 0;
  }

  /** True when the lane has a run in progress. */
  isRunning(laneId: string): boolean {
    return this.lanes.get(laneId)?.state.name === 'running';
  }

  /** Jobs holding a global slot now (lent slots not counted). */
  get slotsInUse(): number {
    return this.running;
  }

  stats(): { running: number; waiting: number; pending: number; backoff: number } {
    let pending = 0;
    let backoff = 0;
    for (const l of this.lanes.values()) {
      pending += l.pending.length;
      if (l.state.name === 'backoff') backoff++;
    }
    return { running: this.running, waiting: this.waiting.length, pending, backoff };
  }

  /** Pending items per lane (for status). */
  snapshot(): Array<{ lane: string; state: string; pending: number }> {
    return [...this.lanes.values()].map((l) => ({
      lane: l.id,
      state: l.state.name,
      pending: l.pending.length,
    }));
  }

  /**
   * Stops intake and retry timers, then waits for active runs up to `timeoutMs`. Work not
   * started stays durable in the store for the next start. Returns the lanes still running.
   */
  async shutdown(timeoutMs: number): Promise<string[]> {
    this.accepting = false;
    for (const lane of this.lanes.values()) {
      if (lane.state.name === 'backoff') {
        this.timers.clearTimeout(lane.state.timer);
        lane.state = { name: 'idle' };
      }
      lane.pending = [];
    }
    this.waiting.length = 0;
    const active = [...this.lanes.values()].flatMap((l) =>
      l.state.name === 'running' ? [l.state.done] : [],
    );
    // Real time, also under a test's fake clock: a stop must not wait for someone to advance it.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.allSettled(active), timeout]);
    clearTimeout(timer);
    return [...this.lanes.values()].filter((l) => l.state.name === 'running').map((l) => l.id);
  }

  private lane(id: string): Lane {
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = { id, state: { name: 'idle' }, pending: [] };
      this.lanes.set(id, lane);
    }
    return lane;
  }

  private makeWaiting(lane: Lane): void {
    lane.state = { name: 'waiting' };
    this.waiting.push(lane.id);
  }

  private pump(): void {
    // A job whose wait ended goes on before new work starts (it already has its sandbox).
    while (this.running < this.opts.maxConcurrent && this.reclaiming.length > 0) {
      const { lane, resume } = this.reclaiming.shift()!;
      const s = lane.state;
      if (s.name !== 'running' || s.slot !== 'reclaiming') {
        resume();
        continue;
      }
      s.slot = 'held';
      this.running++;
      resume();
    }
    while (this.accepting && this.running < this.opts.maxConcurrent && this.waiting.length > 0) {
      const lane = this.lanes.get(this.waiting.shift()!)!;
      const entry = lane.pending.shift();
      if (!entry) {
        lane.state = { name: 'idle' };
        continue;
      }
      this.start(lane, entry.job, entry.attempt);
    }
  }

  private start(lane: Lane, job: Job, attempt: number): void {
    this.running++;
    const state: LaneState = {
      name: 'running',
      job,
      attempt,
      done: Promise.resolve(),
      slot: 'held',
      lends: 0,
    };
    lane.state = state;
    state.done = this.execute(lane, job, attempt, state);
  }

  private async execute(
    lane: Lane,
    job: Job,
    attempt: number,
    state: Extract<LaneState, { name: 'running' }>,
  ): Promise<void> {
    let failure: Error | undefined;
    try {
      await job.run(attempt);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    // Ended while its slot was lent (stopped, timed out): it has no slot to give back.
    if (state.slot === 'held') this.running--;
    else if (state.slot === 'reclaiming') {
      const i = this.reclaiming.findIndex((r) => r.lane === lane);
      if (i >= 0) this.reclaiming.splice(i, 1)[0]!.resume();
    }
    state.slot = 'ended';
    if (failure) await this.failed(lane, job, attempt, failure);
    else this.next(lane);
    this.pump();
  }

  private async failed(lane: Lane, job: Job, attempt: number, error: Error): Promise<void> {
    const log = this.opts.log.child({ group: job.group, lane: lane.id, job: job.key, attempt });
    if (attempt >= this.opts.retry.maxAttempts || !this.accepting) {
      if (!this.accepting) {
        log.warn({ err: error.message }, 'run failed during shutdown; work stays pending');
        lane.state = { name: 'idle' };
        return;
      }
      log.error({ err: error.message }, 'work failed every attempt; dead-lettering');
      try {
        await job.deadLetter(error, attempt);
      } catch (err) {
        log.error({ err }, 'dead-letter handler failed');
      }
      this.next(lane);
      return;
    }
    const delay = backoffDelay(this.opts.retry.baseDelayMs, attempt);
    log.warn({ err: error.message, retryInMs: delay }, 'run failed; will retry');
    const timer = this.timers.setTimeout(() => {
      if (lane.state.name !== 'backoff' || !this.accepting) return;
      // First in its lane again (an equal waiting job is the same work), then the next free slot.
      lane.pending = [
        { job, attempt: attempt + 1 },
        ...lane.pending.filter((p) => p.job.key !== job.key),
      ];
      this.makeWaiting(lane);
      this.pump();
    }, delay);
    lane.state = { name: 'backoff', job, attempt, timer };
  }

  private next(lane: Lane): void {
    if (lane.pending.length > 0) this.makeWaiting(lane);
    else lane.state = { name: 'idle' };
  }
}
