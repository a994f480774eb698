import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { EventBus } from '../events/bus.js';
import type { Store } from '../store/store.js';

/** How long after a write the index catches up (writes within it are indexed together). */
export const INDEX_DELAY_MS = 250;

type IndexerState =
  | { name: 'stopped' }
  | { name: 'idle' }
  | { name: 'due'; timer: unknown }
  | { name: 'indexing'; again: boolean };

/**
 * Keeps the history search index close behind the store in the daemon: a stored message or a
 * finished run arms one timer, and when it fires everything stored meanwhile is indexed in
 * batches, yielding between them so a large backlog (the first start after an upgrade, an
 * import) never holds up the event loop for long. Searches catch up themselves as well
 * (HistorySearch), so this only keeps that work small.
 */
export class SearchIndexer {
  private state: IndexerState = { name: 'stopped' };
  private readonly onWrite = () => this.kick();

  constructor(
    private readonly deps: {
      store: Store;
      bus: EventBus;
      log: Logger;
      clock?: Clock;
      delayMs?: number;
    },
  ) {}

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  /** Listens for writes and catches up once now (rows stored while the daemon was down). */
  start(): void {
    if (this.state.name !== 'stopped') return;
    this.state = { name: 'idle' };
    this.deps.bus.on('message', this.onWrite);
    this.deps.bus.on('run', this.onWrite);
    this.kick(0);
  }

  stop(): void {
    if (this.state.name === 'due') this.clock.clearTimeout(this.state.timer);
    this.deps.bus.off('message', this.onWrite);
    this.deps.bus.off('run', this.onWrite);
    this.state = { name: 'stopped' };
  }

  /** Schedules a catch-up (once; further writes before it fires join it). */
  private kick(delayMs = this.deps.delayMs ?? INDEX_DELAY_MS): void {
    const s = this.state;
    if (s.name === 'indexing') s.again = true;
    if (s.name !== 'idle') return;
    this.state = { name: 'due', timer: this.clock.setTimeout(() => void this.run(), delayMs) };
  }

  private async run(): Promise<void> {
    if (this.state.name !== 'due') return;
    this.state = { name: 'indexing', again: false };
    let total = 0;
    try {
      for (;;) {
        const n = this.deps.store.search.catchUp({ maxBatches: 1 });
        total += n;
        if (n === 0) break;
        await new Promise((r) => setImmediate(r));
        if (this.state.name !== 'indexing') return; // stopped meanwhile
      }
      if (total > 1000) this.deps.log.info({ rows: total }, 'history search index caught up');
    } catch (err) {
      // The next write (or search) tries again; nothing is lost, the rows stay past the mark.
      this.deps.log.warn({ err }, 'history search index could not catch up');
    }
    const again = this.state.name === 'indexing' && this.state.again;
    if (this.state.name === 'indexing') this.state = { name: 'idle' };
    if (again) this.kick();
  }
}
