import { claudeSpec } from './claude/spec.js';
import { codexSpec } from './codex/spec.js';
import { commandSpec } from './command/spec.js';
import type { HarnessEntry } from './harness.js';

/**
 * The built-in harnesses, one line each: a harness is the folder `harnesses/<name>/` (spec.ts
 * for the host, harness.ts for the sandbox) plus its line here. The host reads the specs (names,
 * option schemas, credential checks, packages to mount); the runner loads only the module of
 * the harness a run asks for.
 */
export const builtinHarnesses: readonly HarnessEntry[] = [
  { spec: claudeSpec, load: () => import('./claude/harness.js') },
  { spec: codexSpec, load: () => import('./codex/harness.js') },
  { spec: commandSpec, load: () => import('./command/harness.js') },
];

/** The built-in harness names, in registration order. */
export const harnessNames = builtinHarnesses.map((h) => h.spec.name) as [string, ...string[]];

/** The entry of harness `name`, or undefined. */
export function findHarness(name: string): HarnessEntry | undefined {
  return builtinHarnesses.find((h) => h.spec.name === name);
}
