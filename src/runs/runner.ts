import type { Group } from '../groups/group-schema.js';
import type { Usage } from '../store/runs.js';

/** What the host asks a runner to do: one agent invocation for a group. */
export interface RunSpec {
  runId: string;
  group: Group;
  /** Harness in effect (the group's, else the configured default). */
  harness: string;
  model: string | null;
  /** The first input (id 0): the message envelope or the task prompt. */
  prompt: string;
  /** Session to resume; absent for a fresh one (isolated tasks, first run). */
  sessionId?: string;
  chatJid: string;
  timezone: string;
  assistantName: string;
}

/**
 * Events a run reports, in order. The host follows these explicitly and never guesses from
 * output: only `turn-end` commits replies and advances the group's cursor.
 */
export type RunnerEvent =
  /** One logical reply to deliver to the run's chat (cleaned of <internal> by the host). */
  | { type: 'output'; text: string }
  /** Every input up to and including `lastInputId` is answered; outputs so far are final. */
  | { type: 'turn-end'; lastInputId: number; usage?: Usage; sessionId?: string }
  /** The run failed; `retryable: false` means a retry cannot help (e.g. missing credential). */
  | { type: 'error'; message: string; retryable?: boolean };

/** A live agent invocation. */
export interface AgentRun {
  /** Ends when the agent exits; an end without a final turn-end is a failure. */
  readonly events: AsyncIterable<RunnerEvent>;
  /**
   * Hands a follow-up to the live agent as input `inputId`. Resolves true only when the agent
   * acknowledged it; false (never a throw) when it could not take it — the host then keeps the
   * messages pending for the next run.
   */
  handOff(inputId: number, prompt: string): Promise<boolean>;
  /** Asks the agent to finish after its current turn. */
  close(): void;
  /** Ends the agent at once. */
  kill(reason: string): void;
}

/** Why a runner cannot run a group right now, phrased as what the user must do. */
export interface RunnerProblem {
  message: string;
}

/** Runs agents for one harness. Harness adapters implement this and register themselves. */
export interface Runner {
  readonly harness: string;
  /** Optional async preparation before `problem` (e.g. probing a sandbox runtime once). */
  prepare?(group: Group): Promise<void>;
  /** Fast check before a run: credentials, binaries. Undefined when ready. */
  problem(group: Group): RunnerProblem | undefined;
  start(spec: RunSpec): AgentRun;
}

/** Harness name → runner. The daemon fills it from registered adapters. */
export class RunnerRegistry {
  private readonly runners = new Map<string, Runner>();

  register(runner: Runner): void {
    this.runners.set(runner.harness, runner);
  }

  get(harness: string): Runner | undefined {
    return this.runners.get(harness);
  }

  names(): string[] {
    return [...this.runners.keys()];
  }
}
