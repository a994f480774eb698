import type { HarnessSpec } from '../../protocol/harness-spec.js';
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

/**
 * Builds the harness for one runner. `start.harnessOptions` has passed the harness's
 * optionsSchema already (the runner checks it before loading the module).
 */
export type HarnessFactory = (
  start: StartRequest,
  env: Readonly<Record<string, string | undefined>>,
) => Harness | Promise<Harness>;

/** What `harnesses/<name>/harness.ts` exports. */
export interface HarnessModule {
  createHarness: HarnessFactory;
}

/**
 * One built-in harness: its spec (read by the host and the runner) and the loader of its
 * in-sandbox module, so a run pays only for the harness it uses.
 */
export interface HarnessEntry {
  // Each spec has its own options type; the registry holds them side by side.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly spec: HarnessSpec<any>;
  load(): Promise<HarnessModule>;
}
