import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { OutboxWorker } from '../delivery/outbox-worker.js';
import type { EventBus } from '../events/bus.js';
import type { GroupQueue } from '../queue/group-queue.js';
import type { RunExecutor } from '../runs/run-executor.js';
import type { Store } from '../store/store.js';
import type { SchedulerClock } from './clock.js';
import { Scheduler } from './scheduler.js';
import { TaskRunner, type PreCheckHook } from './task-runner.js';
import { TaskService } from './task-service.js';

export interface SchedulingDeps {
  config: Config;
  store: Store;
  queue: GroupQueue;
  executor: RunExecutor;
  outbox: OutboxWorker;
  bus: EventBus;
  log: Logger;
  clock?: SchedulerClock;
  /** The sandbox layer's pre-check runner; without it pre-check scripts are refused. */
  preCheck?: PreCheckHook;
}

/** The scheduler's parts, wired: timer loop, run path, and the service every surface uses. */
export interface Scheduling {
  scheduler: Scheduler;
  runner: TaskRunner;
  tasks: TaskService;
}

/** Builds the scheduling parts for the daemon (nothing starts until `scheduler.start()`). */
export function createScheduling(deps: SchedulingDeps): Scheduling {
  const { config, store, queue, executor, outbox, bus, clock, preCheck } = deps;
  const log = deps.log;
  const scheduler = new Scheduler({
    store,
    queue,
    notifyOwner: (key, text) => outbox.notifyOwner(key, text),
    log,
    clock,
  });
  const runner = new TaskRunner({
    config,
    store,
    executor,
    outbox,
    bus,
    log,
    leases: scheduler,
    preCheck,
    now: clock ? () => clock.now() : undefined,
  });
  const tasks = new TaskService({
    store,
    timezone: config.timezone,
    engine: scheduler,
    preCheckAvailable: preCheck !== undefined,
    now: clock ? () => clock.now() : undefined,
  });
  return { scheduler, runner, tasks };
}
