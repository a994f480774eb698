import {
  encodeEvent,
  hostLineSchema,
  type RunnerEvent,
  type StartRequest,
  type TurnInput,
} from '../protocol/runner-protocol.js';
import type { Harness } from './harnesses/harness.js';

export interface RunnerIo {
  write(line: string): void;
}

/** The runner's lifecycle, one state at a time. */
type State =
  { name: 'idle' } | { name: 'busy'; input: TurnInput } | { name: 'closing' } | { name: 'done' };

/**
 * The in-sandbox main loop: takes turn inputs from the host (stdin lines, one turn at a time)
 * and runs each through the harness, until `close`, a failed turn, or the end of stdin.
 * The host sends the next input only after this turn's `result` or `error`, so a result
 * always belongs to the input being answered; an input that arrives early still waits its
 * turn here.
 */
export class AgentRunner {
  private state: State = { name: 'idle' };
  private readonly waiting: TurnInput[] = [];
  private resumeId: string | null;
  private readonly abort = new AbortController();
  private finished!: () => void;
  readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly start: StartRequest,
    private readonly harness: Harness,
    private readonly io: RunnerIo,
  ) {
    this.resumeId = start.resumeId;
  }

  /** One line from the host after `start`. A line outside the protocol is logged and ignored. */
  line(raw: string): void {
    if (this.state.name === 'done' || !raw.trim()) return;
    let parsed;
    try {
      parsed = hostLineSchema.safeParse(JSON.parse(raw));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.emit({ type: 'log', level: 'warn', msg: `ignored a host line outside the protocol` });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'close') {
      if (this.state.name === 'idle') this.finish();
      else if (this.state.name === 'busy') this.state = { name: 'closing' };
      return;
    }
    this.waiting.push(msg);
    if (this.state.name === 'idle') void this.next();
  }

  /** The host went away (stdin closed): stop now. */
  hostGone(): void {
    this.abort.abort();
    this.finish();
  }

  private emit(ev: RunnerEvent): void {
    this.io.write(encodeEvent(ev));
  }

  private async next(): Promise<void> {
    const input = this.waiting.shift();
    if (!input) {
      this.state = { name: 'idle' };
      return;
    }
    this.state = { name: 'busy', input };
    let failed = false;
    try {
      for await (const ev of this.harness.turn(input.prompt, this.resumeId, this.abort.signal)) {
        if (ev.type === 'result' && ev.resumeId) this.resumeId = ev.resumeId;
        if (ev.type === 'error') failed = true;
        this.emit(ev.type === 'result' ? { ...ev, resumeId: this.resumeId } : ev);
      }
    } catch (err) {
      failed = true;
      this.emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    // A failed turn ends the process: the host retries the input in a fresh one.
    const after = this.state as State; // `line` may have asked to close meanwhile
    if (failed || after.name !== 'busy') return this.finish();
    void this.next();
  }

  private finish(): void {
    if (this.state.name === 'done') return;
    this.state = { name: 'done' };
    this.harness.close?.();
    this.finished();
  }
}
