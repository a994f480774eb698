import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import type { AgentLauncher, AgentProcess, SessionSpec } from '../../src/runs/agent-process.js';
import { EventStream } from '../../src/runs/event-stream.js';

/** What a scripted agent does with one turn input; return the events to emit for it. */
export type Script = (input: {
  id: number;
  prompt: string;
  spec: SessionSpec;
  call: number;
}) => RunnerEvent[] | Promise<RunnerEvent[]>;

export interface ScriptedLauncher extends AgentLauncher {
  /** Every session started, in order. */
  readonly started: SessionSpec[];
  /** Every turn input, in order, with its session. */
  readonly inputs: Array<{ sessionId: string; id: number; prompt: string }>;
  /** Processes still alive. */
  live(): number;
}

/**
 * A test-only launcher whose agent processes answer each turn input with the events `script`
 * returns, one turn at a time, like the real runner: a turn whose events hold no `result` or
 * `error` means the agent died (the process ends); an `error` ends the process too.
 */
export function scriptedLauncher(
  script: Script,
  opts: { harness?: string } = {},
): ScriptedLauncher {
  const started: SessionSpec[] = [];
  const inputs: ScriptedLauncher['inputs'] = [];
  let calls = 0;
  let alive = 0;
  return {
    harness: opts.harness ?? 'claude',
    started,
    inputs,
    live: () => alive,
    problem: () => undefined,
    start(spec: SessionSpec): AgentProcess {
      started.push(spec);
      alive++;
      const stream = new EventStream<RunnerEvent>();
      const queue: Array<{ id: number; prompt: string }> = [];
      let state: 'idle' | 'busy' | 'closing' | 'dead' = 'idle';
      const end = () => {
        if (state === 'dead') return;
        state = 'dead';
        alive--;
        stream.end();
      };
      const next = async () => {
        const input = queue.shift();
        if (!input) {
          if (state === 'closing') end();
          else if (state === 'busy') state = 'idle';
          return;
        }
        if (state === 'idle') state = 'busy';
        inputs.push({ sessionId: spec.sessionId, ...input });
        const events = await script({ ...input, spec, call: calls++ });
        for (const ev of events) {
          if (state === 'dead') return;
          stream.push(ev);
        }
        const finished = events.some((e) => e.type === 'result' || e.type === 'error');
        if (!finished || events.some((e) => e.type === 'error')) return end();
        void next();
      };
      return {
        events: stream,
        send(input) {
          if (state === 'dead' || state === 'closing') return false;
          queue.push({ id: input.id, prompt: input.prompt });
          if (state === 'idle') void next();
          return true;
        },
        close() {
          if (state === 'idle') end();
          else if (state === 'busy') state = 'closing';
        },
        kill() {
          end();
        },
      };
    },
  };
}

/** The usual answer: one message then the end of the turn. */
export const reply = (text: string): RunnerEvent[] => [
  { type: 'message', text },
  {
    type: 'result',
    usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001 },
    resumeId: 'sess-1',
  },
];
