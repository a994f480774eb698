import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { Daemon, type DaemonOptions } from '../../src/daemon.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { AgentLauncher } from '../../src/runs/agent-process.js';
import type { StoredMessage } from '../../src/store/messages.js';

export function tempHome(configYaml?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'clawpod-test-'));
  const base =
    'http: { port: 0 }\nretry: { baseDelayMs: 1, maxAttempts: 5 }\ntimezone: Europe/Berlin\n';
  writeFileSync(join(home, 'config.yaml'), base + (configYaml ?? ''));
  return home;
}

/**
 * A data dir with the settings a user gets: nothing shortened (retries, idle timeout, run time
 * limit all at their defaults); only the HTTP port is picked free. Drive time with a FakeClock.
 */
export function defaultHome(configYaml = ''): string {
  const home = mkdtempSync(join(tmpdir(), 'clawpod-test-'));
  writeFileSync(join(home, 'config.yaml'), 'http: { port: 0 }\n' + configYaml);
  return home;
}

/**
 * A real daemon on a temp data dir, port 0, with the given launchers. `env` is the daemon's
 * environment beyond CLAWPOD_HOME and PATH (credentials, upstream base URLs).
 */
export async function startDaemon(
  home: string,
  launchers: AgentLauncher[],
  beforeStart?: (d: Daemon) => void,
  env: Record<string, string> = {},
  options: Pick<DaemonOptions, 'clock' | 'channels'> = {},
): Promise<Daemon> {
  const config = loadConfig({ ...env, CLAWPOD_HOME: home, PATH: process.env.PATH });
  const daemon = new Daemon({ config, log: silentLogger(), launchers, ...options });
  beforeStart?.(daemon);
  await daemon.start();
  return daemon;
}

/** Resolves with the next stored message matching `pred` (event-driven, no polling). */
export function nextMessage(
  daemon: Daemon,
  pred: (m: StoredMessage) => boolean,
): Promise<StoredMessage> {
  return new Promise((resolve) => {
    const on = (m: StoredMessage) => {
      if (!pred(m)) return;
      daemon.bus.off('message', on);
      resolve(m);
    };
    daemon.bus.on('message', on);
  });
}

/** Resolves when a run reaches a final status matching `pred`. */
export function runEnded(daemon: Daemon, pred: (status: string) => boolean = () => true) {
  return new Promise<{ id: string; status: string; error: string | null }>((resolve) => {
    const on = (r: { id: string; status: string; error: string | null }) => {
      if (r.status === 'running' || !pred(r.status)) return;
      daemon.bus.off('run', on);
      resolve(r);
    };
    daemon.bus.on('run', on);
  });
}

let n = 0;
/**
 * Stores an inbound message through the router, as a channel would. The default sender is the
 * owner in `main`'s web chat (as the web page and the API post) and `alice` elsewhere.
 */
export function say(
  daemon: Daemon,
  chat: string,
  text: string,
  sender = chat === 'web:main' ? 'owner' : 'alice',
) {
  return daemon.router.receive({
    chatId: chat,
    platformId: `p${++n}-${Date.now()}`,
    sender,
    senderName: sender,
    text,
    ts: Date.now(),
  });
}
