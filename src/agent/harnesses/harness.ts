import type { StartRequest } from '../../protocol/runner-protocol.js';

/** What a harness reports for one turn, in order; it ends with `result` or `error`. */
export type HarnessEvent =
  | { type: 'text'; text: string }
  | {
      type: 'result';
      sessionId?: string | null;
      usage?: {
        inputTokens?: number;
        outputTokens?: number;
        cacheReadTokens?: number;
        cacheWriteTokens?: number;
        costUsd?: number;
      };
    }
  | { type: 'error'; message: string; retryable?: boolean }
  /** A note for the host's log (not the chat); does not end the turn. */
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string };

/**
 * An agent harness inside the sandbox. `turn` runs one prompt (resuming `sessionId` when the
 * harness keeps sessions) and yields its events; `signal` aborts it.
 */
export interface Harness {
  readonly name: string;
  turn(prompt: string, sessionId: string | null, signal: AbortSignal): AsyncIterable<HarnessEvent>;
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
