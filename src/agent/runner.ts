import {
  encodeEvent,
  type RunnerWireEvent,
  type StartRequest,
} from '../protocol/runner-protocol.js';
import type { Harness } from './harnesses/harness.js';
import { InputInbox, type InboxItem } from './input-inbox.js';

export interface RunnerIo {
  write(line: string): void;
  ipcDir: string;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
}

/** The runner's lifecycle, one state at a time. */
type State =
  | { name: 'busy'; inputId: number }
  | { name: 'idle'; timer: NodeJS.Timeout }
  | { name: 'closing' }
  | { name: 'done' };

/**
 * The in-sandbox main loop: answers the start prompt, then follow-ups from the input inbox one
 * turn at a time, until `_close`, the idle timeout, or the end of stdin.
 */
export class AgentRunner {
  private state: State = { name: 'busy', inputId: 0 };
  private readonly queue: Array<{ id: number; prompt: string }> = [];
  private sessionId: string | null;
  private closeRequested = false;
  private readonly inbox: InputInbox;
  private readonly abort = new AbortController();
  private finished!: () => void;
  readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly start: StartRequest,
    private readonly harness: Harness,
    private readonly io: RunnerIo,
  ) {
    this.sessionId = start.sessionId;
    this.inbox = new InputInbox(io.ipcDir, (item) => this.onInbox(item));
  }

  run(): Promise<void> {
    this.emit({ type: 'state', state: 'ready' });
    this.queue.push({ id: 0, prompt: this.start.prompt });
    this.inbox.start();
    void this.next();
    return this.done;
  }

  /** The host went away (stdin closed): stop now. */
  hostGone(): void {
    this.abort.abort();
    this.finish();
  }

  private emit(ev: RunnerWireEvent): void {
    this.io.write(encodeEvent(ev));
  }

  private onInbox(item: InboxItem): void {
    if (this.state.name === 'done') return;
    if (item.kind === 'close') {
      this.closeRequested = true;
      if (this.state.name === 'idle') this.finish();
      return;
    }
    if (this.closeRequested) return; // not acknowledged: the host keeps it pending
    this.emit({ type: 'ack', inputId: item.input.id });
    this.queue.push(item.input);
    if (this.state.name === 'idle') {
      clearTimeout(this.state.timer);
      void this.next();
    }
  }

  private async next(): Promise<void> {
    const input = this.queue.shift();
    if (!input) {
      if (this.closeRequested) return this.finish();
      this.emit({ type: 'state', state: 'idle' });
      const timer = this.io.setTimeout(() => this.finish(), this.start.idleTimeoutMs);
      this.state = { name: 'idle', timer };
      return;
    }
    this.state = { name: 'busy', inputId: input.id };
    this.emit({ type: 'state', state: 'busy' });
    let failed = false;
    try {
      for await (const ev of this.harness.turn(input.prompt, this.sessionId, this.abort.signal)) {
        if (ev.type === 'text') this.emit({ type: 'message', text: ev.text });
        else if (ev.type === 'log') this.emit(ev);
        else if (ev.type === 'result') {
          if (ev.sessionId) this.sessionId = ev.sessionId;
          this.emit({
            type: 'result',
            inputId: input.id,
            sessionId: this.sessionId,
            usage: ev.usage,
          });
        } else {
          failed = true;
          this.emit({ type: 'error', message: ev.message, retryable: ev.retryable });
        }
      }
    } catch (err) {
      failed = true;
      this.emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    // A failed turn ends the run; the host retries the unanswered inputs from its cursor.
    if (failed) return this.finish();
    void this.next();
  }

  private finish(): void {
    if (this.state.name === 'done') return;
    if (this.state.name === 'idle') clearTimeout(this.state.timer);
    this.emit({ type: 'state', state: 'closing' });
    this.state = { name: 'done' };
    this.inbox.stop();
    this.harness.close?.();
    this.finished();
  }
}
