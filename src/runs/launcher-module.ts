import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { AgentLauncher } from './agent-process.js';

/**
 * Loads extra launchers from a module path (development and tests: `CLAWPOD_LAUNCHER_MODULE`).
 * The module exports `createLaunchers(): AgentLauncher[]`. Nothing is loaded unless it is set.
 */
export async function loadLauncherModule(path: string | undefined): Promise<AgentLauncher[]> {
  if (!path) return [];
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const mod = (await import(url)) as { createLaunchers?: () => AgentLauncher[] };
  if (typeof mod.createLaunchers !== 'function') {
    throw new Error(`${path}: a launcher module must export createLaunchers(): AgentLauncher[]`);
  }
  return mod.createLaunchers();
}
