import type { RunnerEvent } from '../src/protocol/runner-protocol.js';
import type { AgentLauncher, SessionSpec } from '../src/runs/agent-process.js';
import { EventStream } from '../src/runs/event-stream.js';

/**
 * A launcher for benchmarks of the host's own path: its agent answers every input at once with
 * an empty turn, after calling `onInput` (the moment the host handed the input over).
 */
export function instantLauncher(
  onInput: (input: { prompt: string; spec: SessionSpec }) => void,
): AgentLauncher {
  return {
    harness: 'claude',
    problem: () => undefined,
    start(spec) {
      const stream = new EventStream<RunnerEvent>();
      let open = true;
      return {
        events: stream,
        send(input) {
          if (!open) return false;
          onInput({ prompt: input.prompt, spec });
          stream.push({ type: 'result' });
          return true;
        },
        close() {
          open = false;
          stream.end();
        },
        kill() {
          open = false;
          stream.end();
        },
      };
    },
  };
}
