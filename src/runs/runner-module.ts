import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { Runner } from './runner.js';

/**
 * Loads extra runners from a module path (development and tests: `CLAWPOD_RUNNER_MODULE`).
 * The module exports `createRunners(): Runner[]`. Nothing is loaded unless the variable is set.
 */
export async function loadRunnerModule(path: string | undefined): Promise<Runner[]> {
  if (!path) return [];
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const mod = (await import(url)) as { createRunners?: () => Runner[] };
  if (typeof mod.createRunners !== 'function') {
    throw new Error(`${path}: a runner module must export createRunners(): Runner[]`);
  }
  return mod.createRunners();
}
