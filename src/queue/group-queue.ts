import type { Logger } from 'pino';
import { backoffDelay } from './backoff.js';

/** A unit of queued work. Messages work carries no batch: the batch is read from the cursor at start. */
export interface WorkItem {
  /** Lane: one run at a time per lane (the group's conversation lane is the group name). */
  lane: string;
  group: string;
  kind: 'messages' | 'task';
  /** Items with equal keys that are both waiting collapse into one. */
  key: string;
  taskId?: string;
}

export interface QueueHandlers {
  /** Performs the work; a throw is a failure that will be retried. */
  run(item: WorkItem, attempt: number): Promise<void>;
  /** Called once when an item failed every attempt. */
  deadLetter(item: WorkItem, error: Error, attempts: number): Promise<void> | void;
  /**
   * Work is waiting behind a running lane (`lane`) or for a global slot (no lane): a warm,
   * idle agent holding it should be asked to finish. Optional.
   */
  onBlocked?(lane?: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface GroupQueueOptions {
  maxConcurrent: number;
  retry: { baseDelayMs: number; maxAttempts: number };
  handlers: QueueHandlers;
  log: Logger;
  timers?: Timers;
}

/** A lane's lifecycle: explicit states, one transition at a time. */
type LaneState =
  | { name: 'idle' }
  | { name: 'waiting' }
  | { name: 'running'; item: WorkItem; attempt: number; done: Promise<void> }
  | { name: 'backoff'; item: WorkItem; attempt: number; timer: unknown };

interface Lane {
  id: string;
  state: LaneState;
  /** Waiting items with the attempt they start at (a retried item keeps its count). */
  pending: Array<{ item: WorkItem; attempt: number }>;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Per-lane FIFO with a global cap on concurrent runs. Failed items retry after 5 s, 10 s, 20 s…
 * on their own timer (never waiting for new traffic), then go to the dead-letter handler.
 */
export class GroupQueue {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with work, waiting for a global slot, in arrival order. */
  private readonly waiting: string[] = [];
  private running = 0;
  private accepting = true;
  private readonly timers: Timers;

  constructor(private readonly opts: GroupQueueOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  /** Adds work; returns false when the queue no longer accepts work (shutting down). */
  enqueue(item: WorkItem): boolean {
    if (!this.accepting) return false;
    const lane = this.lane(item.lane);
    if (!lane.pending.some((p) => p.item.key === item.key)) lane.pending.push({ item, attempt: 1 });
    if (lane.state.name === 'idle') this.makeWaiting(lane);
    else if (lane.state.name === 'running') this.opts.handlers.onBlocked?.(lane.id);
    this.pump();
    return true;
  }

  /** True when work waits behind `laneId` or for any global slot. */
  hasWaitingWork(laneId: string): boolean {
    return this.waiting.length > 0 || (this.lanes.get(laneId)?.pending.length ?? 0) > 0;
  }

  /** True when the lane has a run in progress. */
  isRunning(laneId: string): boolean {
    return this.lanes.get(laneId)?.state.name === 'running';
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
    let timer: unknown;
    const timeout = new Promise<void>((r) => (timer = this.timers.setTimeout(r, timeoutMs)));
    await Promise.race([Promise.allSettled(active), timeout]);
    this.timers.clearTimeout(timer);
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
    while (this.accepting && this.running < this.opts.maxConcurrent && this.waiting.length > 0) {
      const lane = this.lanes.get(this.waiting.shift()!)!;
      const entry = lane.pending.shift();
      if (!entry) {
        lane.state = { name: 'idle' };
        continue;
      }
      this.start(lane, entry.item, entry.attempt);
    }
    if (this.accepting && this.waiting.length > 0) this.opts.handlers.onBlocked?.();
  }

  private start(lane: Lane, item: WorkItem, attempt: number): void {
    this.running++;
    const done = this.execute(lane, item, attempt);
    lane.state = { name: 'running', item, attempt, done };
  }

  private async execute(lane: Lane, item: WorkItem, attempt: number): Promise<void> {
    let failure: Error | undefined;
    try {
      await this.opts.handlers.run(item, attempt);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    this.running--;
    if (failure) await this.failed(lane, item, attempt, failure);
    else this.next(lane);
    this.pump();
  }

  private async failed(lane: Lane, item: WorkItem, attempt: number, error: Error): Promise<void> {
    const log = this.opts.log.child({ group: item.group, lane: lane.id, attempt });
    if (attempt >= this.opts.retry.maxAttempts || !this.accepting) {
      if (!this.accepting) {
        log.warn({ err: error.message }, 'run failed during shutdown; work stays pending');
        lane.state = { name: 'idle' };
        return;
      }
      log.error({ err: error.message }, 'work failed every attempt; dead-lettering');
      try {
        await this.opts.handlers.deadLetter(item, error, attempt);
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
      if (this.running >= this.opts.maxConcurrent) {
        // Keep the retried item first in its lane and take the next free slot.
        lane.pending.unshift({ item, attempt: attempt + 1 });
        this.makeWaiting(lane);
        return;
      }
      this.start(lane, item, attempt + 1);
    }, delay);
    lane.state = { name: 'backoff', item, attempt, timer };
  }

  private next(lane: Lane): void {
    if (lane.pending.length > 0) this.makeWaiting(lane);
    else lane.state = { name: 'idle' };
  }
}
