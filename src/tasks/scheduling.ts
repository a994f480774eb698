import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { GroupQueue } from '../queue/group-queue.js';
import type { TurnDeps } from '../runs/turn.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { TaskJob, type PreCheckHook } from './task-job.js';
import { TaskService } from './task-service.js';

export interface SchedulingDeps {
  /** The turn path task occurrences run through (the same one messages take). */
  turns: TurnDeps;
  queue: GroupQueue;
  log: Logger;
  clock?: Clock;
  /** The sandbox layer's pre-check runner; without it pre-check scripts are refused. */
  preCheck?: PreCheckHook;
}

/** The scheduler's parts, wired: the timer loop and the service every surface uses. */
export interface Scheduling {
  scheduler: Scheduler;
  tasks: TaskService;
}

/**
 * Builds the scheduling parts for the daemon (nothing starts until `scheduler.start()`). A
 * claimed occurrence becomes a TaskJob in the queue.
 */
export function createScheduling(deps: SchedulingDeps): Scheduling {
  const { turns, queue, clock, preCheck, log } = deps;
  const scheduler: Scheduler = new Scheduler({
    store: turns.store,
    enqueue: (occurrence) =>
      queue.enqueue(new TaskJob({ ...turns, log, leases: scheduler, preCheck, queue }, occurrence)),
    notifyOwner: (key, text) => turns.outbox.notifyOwner(key, text),
    log,
    clock,
  });
  const tasks = new TaskService({
    store: turns.store,
    timezone: turns.config.timezone,
    engine: scheduler,
    preCheckAvailable: preCheck !== undefined,
    now: clock ? () => clock.now() : undefined,
  });
  return { scheduler, tasks };
}
