import type { AgentRun, Runner, RunnerEvent, RunSpec } from '../../src/runs/runner.js';

/** What a scripted agent does with one input; return the events to emit for it. */
export type Script = (input: {
  id: number;
  prompt: string;
  spec: RunSpec;
  call: number;
}) => RunnerEvent[] | Promise<RunnerEvent[]>;

export interface ScriptedRunner extends Runner {
  /** Every spec started, in order. */
  readonly started: RunSpec[];
  /** Every input (first prompt and follow-ups) with its run. */
  readonly inputs: Array<{ runId: string; id: number; prompt: string }>;
}

/**
 * A test-only runner: answers each input with the events `script` returns. With `stayAlive`, the
 * run keeps accepting follow-ups until `close()`; otherwise it ends after the first input.
 */
export function scriptedRunner(
  script: Script,
  opts: { harness?: string; stayAlive?: boolean } = {},
): ScriptedRunner {
  const started: RunSpec[] = [];
  const inputs: ScriptedRunner['inputs'] = [];
  let calls = 0;
  return {
    harness: opts.harness ?? 'claude',
    started,
    inputs,
    problem: () => undefined,
    start(spec: RunSpec): AgentRun {
      started.push(spec);
      const queue: Array<{ id: number; prompt: string }> = [{ id: 0, prompt: spec.prompt }];
      let wake: (() => void) | undefined;
      let state: 'open' | 'closing' | 'dead' = 'open';
      const poke = () => {
        wake?.();
        wake = undefined;
      };
      async function* events(): AsyncGenerator<RunnerEvent> {
        for (;;) {
          const next = queue.shift();
          if (next) {
            inputs.push({ runId: spec.runId, ...next });
            for (const ev of await script({ ...next, spec, call: calls++ })) {
              if (state === 'dead') return;
              yield ev;
            }
            if (!opts.stayAlive) return;
            continue;
          }
          if (state !== 'open') return;
          await new Promise<void>((r) => (wake = r));
        }
      }
      return {
        events: events(),
        async handOff(id, prompt) {
          if (state !== 'open' || !opts.stayAlive) return false;
          queue.push({ id, prompt });
          poke();
          return true;
        },
        close() {
          if (state === 'open') state = 'closing';
          poke();
        },
        kill() {
          state = 'dead';
          poke();
        },
      };
    },
  };
}

/** The usual reply: one output then the end of the turn. */
export const reply = (text: string, lastInputId = 0): RunnerEvent[] => [
  { type: 'output', text },
  {
    type: 'turn-end',
    lastInputId,
    usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001 },
    sessionId: 'sess-1',
  },
];
