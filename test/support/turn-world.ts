import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ChannelSet } from '../../src/channels/registry.js';
import { loadConfig } from '../../src/config/load.js';
import { OutboxWorker } from '../../src/delivery/outbox-worker.js';
import { EventBus } from '../../src/events/bus.js';
import { LauncherRegistry } from '../../src/runs/agent-process.js';
import { SessionPool } from '../../src/runs/session-pool.js';
import type { TurnDeps, TurnRequest } from '../../src/runs/turn.js';
import { openDb } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import { FakeClock } from './fake-clock.js';
import { scriptedLauncher, type Script, type ScriptedLauncher } from './scripted-launcher.js';

/** One group's turn machinery at the default settings, with a scripted agent and a fake clock. */
export interface TurnWorld {
  deps: TurnDeps;
  store: Store;
  pool: SessionPool;
  clock: FakeClock;
  launcher: ScriptedLauncher;
  /** A message turn for `main` (its run row started). */
  request(runId: string, over?: Partial<TurnRequest>): TurnRequest;
}

/** The real store (in memory), session pool and outbox; only the agent process is scripted. */
export function turnWorld(script: Script): TurnWorld {
  const home = mkdtempSync(join(tmpdir(), 'clawpod-turn-'));
  const config = loadConfig({ CLAWPOD_HOME: home, TZ: 'UTC' });
  const store = new Store(openDb(':memory:'));
  const clock = new FakeClock(Date.UTC(2026, 0, 5, 9));
  const log = pino({ level: 'silent' });
  const launchers = new LauncherRegistry();
  const launcher = scriptedLauncher(script);
  launchers.register(launcher);
  const pool = new SessionPool({ config, store, launchers, clock, log });
  const bus = new EventBus();
  const channels = new ChannelSet([]);
  const retry = { baseDelayMs: 1000, maxAttempts: 3 };
  const outbox = new OutboxWorker({ store, channels, bus, log, retry, now: () => clock.now() });
  store.groups.insert('main', {}, { isMain: true, now: clock.now() });
  store.groups.bind('web:owner', 'main', clock.now());
  const deps: TurnDeps = { config, store, launchers, pool, outbox, channels, bus, clock, log };
  return {
    deps,
    store,
    pool,
    clock,
    launcher,
    request(runId, over = {}) {
      store.runs.start({
        id: runId,
        group: 'main',
        kind: 'message',
        chatId: 'web:owner',
        seqStart: 1,
        seqEnd: 1,
        attempt: 1,
        now: clock.now(),
      });
      return {
        runId,
        group: store.groups.get('main')!,
        lane: 'main',
        conversation: true,
        prompt: 'hello',
        chat: 'web:owner',
        replyTo: null,
        keyPrefix: `run:${runId}`,
        typing: false,
        onCommit: () => undefined,
        ...over,
      };
    },
  };
}
