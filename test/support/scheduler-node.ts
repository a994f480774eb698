import { join } from 'node:path';
import { afterEach } from 'vitest';
import { dataPaths } from '../../src/config/load.js';
import { GroupService } from '../../src/groups/group-service.js';
import { silentLogger } from '../../src/logging/logger.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import type { TaskOccurrence } from '../../src/scheduler/scheduler.js';
import { TaskService } from '../../src/tasks/task-service.js';
import { Store } from '../../src/store/store.js';
import type { FakeClock } from './fake-clock.js';

/** One "daemon" on a database file: its own connection, scheduler and a capturing queue. */
export interface SchedulerNode {
  store: Store;
  scheduler: Scheduler;
  service: TaskService;
  /** Occurrences queued so far (the test takes them out as it "runs" them). */
  items: TaskOccurrence[];
  notices: Array<{ key: string; text: string }>;
  /** Finishes a queued occurrence as the run path would (status ok), releasing the lease. */
  complete(item: TaskOccurrence): void;
}

/**
 * Returns a maker of scheduler nodes; every node and store opened in a test is stopped and
 * closed after it. Groups `main` (web:main) and `team` (web:team) exist.
 */
export function useSchedulerNodes() {
  const stores: Store[] = [];
  const schedulers: Scheduler[] = [];
  afterEach(() => {
    for (const s of schedulers.splice(0)) s.stop();
    for (const s of stores.splice(0)) s.close();
  });
  const open = (file: string) => {
    const store = Store.open(file);
    stores.push(store);
    return store;
  };
  const node = (
    file: string,
    clock: FakeClock,
    id: string,
    opts: { start?: boolean; scheduler?: Partial<SchedulerOptions> } = {},
  ): SchedulerNode => {
    const store = open(file);
    const groups = new GroupService(store, dataPaths(join(file, '..')), () => clock.now());
    groups.ensureMain();
    if (!store.groups.get('team')) groups.add({ name: 'team', chats: ['web:team'] });
    const items: TaskOccurrence[] = [];
    const notices: Array<{ key: string; text: string }> = [];
    const scheduler = new Scheduler({
      store,
      enqueue: (i) => (items.push(i), true),
      notifyOwner: (key, text) => notices.push({ key, text }),
      log: silentLogger(),
      clock,
      instanceId: id,
      isProcessAlive: () => true,
      ...opts.scheduler,
    });
    schedulers.push(scheduler);
    const service = new TaskService({
      store,
      timezone: 'Europe/Berlin',
      engine: scheduler,
      now: () => clock.now(),
    });
    const runs = store.taskRuns;
    const complete = (item: TaskOccurrence) => {
      const r = runs.byOccurrence(item.taskId, item.scheduledFor)!;
      runs.finish(r.id, { status: 'ok', now: clock.now() });
      scheduler.finished(item.taskId);
    };
    if (opts.start !== false) scheduler.start();
    return { store, scheduler, service, items, notices, complete };
  };
  return { node, open };
}
