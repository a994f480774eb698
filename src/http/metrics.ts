import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
} from 'prom-client';
import type { ChannelHealth } from '../channels/channel.js';
import type { EventBus } from '../events/bus.js';
import type { GroupQueue } from '../queue/group-queue.js';
import type { Store } from '../store/store.js';

/**
 * Prometheus metrics of one daemon, fed by bus events and read from the store on scrape.
 * `extra`: metrics owned by other parts (e.g. the egress proxy's refusal counter), registered
 * here as they are.
 */
export function createMetrics(deps: {
  bus: EventBus;
  store: Store;
  queue: GroupQueue;
  extra?: Metric[];
  /** Connected channels, read at scrape time. */
  channels?: () => ReadonlyArray<{ name: string; health(): ChannelHealth }>;
  /** Live agent sessions' states, read at scrape time. */
  sessions?: () => ReadonlyArray<{ state: string }>;
}): Registry {
  const registry = new Registry();
  for (const m of deps.extra ?? []) registry.registerMetric(m);
  collectDefaultMetrics({ register: registry, prefix: 'clawpod_process_' });
  const messages = new Counter({
    name: 'clawpod_messages_total',
    help: 'Messages stored, by direction',
    labelNames: ['direction'],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'clawpod_runs_total',
    help: 'Finished runs by status',
    labelNames: ['status'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'clawpod_run_duration_seconds',
    help: 'Run duration',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  const deliveryDead = new Counter({
    name: 'clawpod_outbox_dead_total',
    help: 'Replies dead-lettered since start',
    registers: [registry],
  });
  new Gauge({
    name: 'clawpod_queue_depth',
    help: 'Queued work by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = deps.queue.stats();
      this.set({ state: 'running' }, s.running);
      this.set({ state: 'pending' }, s.pending);
      this.set({ state: 'backoff' }, s.backoff);
    },
  });
  new Gauge({
    name: 'clawpod_agent_sessions',
    help: 'Live agent sessions by state (idle ones wait for follow-ups; they are not runs)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const live = deps.sessions?.() ?? [];
      for (const state of ['idle', 'busy', 'closing'])
        this.set({ state }, live.filter((x) => x.state === state).length);
    },
  });
  new Gauge({
    name: 'clawpod_outbox_backlog',
    help: 'Replies not yet delivered',
    registers: [registry],
    collect() {
      const c = deps.store.outbox.countByStatus();
      this.set(c.pending + c.sending);
    },
  });
  new Gauge({
    name: 'clawpod_dead_letters',
    help: 'Dead letters recorded',
    registers: [registry],
    collect() {
      this.set(deps.store.deadLetters.count());
    },
  });
  new Gauge({
    name: 'clawpod_dead_letters_pending',
    help: 'Dead letters waiting for a decision (retry or discard)',
    registers: [registry],
    collect() {
      this.set(deps.store.deadLetters.count('pending'));
    },
  });
  new Gauge({
    name: 'clawpod_storage_ok',
    help: 'Whether the store takes writes (1) or refuses them: locked, disk full, I/O error (0)',
    registers: [registry],
    collect() {
      this.set(deps.store.health.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'clawpod_channel_connected',
    help: 'Whether each channel is connected (1) or not (0)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      for (const c of deps.channels?.() ?? [])
        this.set({ channel: c.name }, c.health().connected ? 1 : 0);
    },
  });
  deps.bus.on('message', (m) => messages.inc({ direction: m.direction }));
  deps.bus.on('outbox-dead', () => deliveryDead.inc());
  deps.bus.on('run', (r) => {
    if (r.status === 'running') return;
    runs.inc({ status: r.status });
    if (r.endedAt) durations.observe((r.endedAt - r.startedAt) / 1000);
  });
  return registry;
}
