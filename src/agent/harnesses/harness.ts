import type { RunnerEvent, StartRequest } from '../../protocol/runner-protocol.js';

/**
 * An agent harness inside the sandbox. `turn` runs one prompt (resuming `resumeId`, the
 * harness's own conversation id, when it keeps one) and yields the protocol's events for it:
 * zero or more `message`/`log`, then exactly one `result` or `error`. `signal` aborts it.
 */
export interface Harness {
  readonly name: string;
  turn(prompt: string, resumeId: string | null, signal: AbortSignal): AsyncIterable<RunnerEvent>;
  /** Releases what the harness keeps between turns (a live agent process); called once at the end. */
  close?(): void;
}

export type HarnessFactory = (
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
) => Harness;

const factories = new Map<string, HarnessFactory>();

/** Harness files call this once at import; `harnesses/index.ts` loads the one a run needs. */
export function registerHarness(name: string, factory: HarnessFactory): void {
  factories.set(name, factory);
}

export function createHarness(
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
): Harness {
  const factory = factories.get(start.harness);
  if (!factory)
    throw new Error(
      `harness "${start.harness}" is not available in this runner (have: ${[...factories.keys()].join(', ')})`,
    );
  return factory(start, env);
}
