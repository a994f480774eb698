import { DeliveryError, type Channel, type InboundSink } from '../../src/channels/channel.js';
import { registerChannel } from '../../src/channels/registry.js';

/** A controllable channel `test:*` for integration tests (the edge of the machine). */
export class TestChannel implements Channel {
  readonly name = 'test';
  readonly limits = { maxMessageLength: 50 };
  sink?: InboundSink;
  readonly sent: Array<{ chat: string; text: string; idemKey: string; files: string[] }> = [];
  /** Keys the "platform" already has (a send cut by a crash that did arrive). */
  readonly alreadyPosted = new Map<string, string>();
  /** How many upcoming sends fail. */
  failNext = 0;
  failForever = false;
  /** While set, a send is recorded (the platform has it) but answered only once it resolves. */
  answerGate?: Promise<void>;
  private readonly sendWaiters: Array<() => void> = [];

  /** Resolves once the next send has been recorded by the "platform". */
  nextSend(): Promise<void> {
    return new Promise((resolve) => this.sendWaiters.push(resolve));
  }

  owns(chat: string) {
    return chat.startsWith('test:');
  }
  async connect(sink: InboundSink) {
    this.sink = sink;
  }
  async disconnect() {}
  async findSent(_chat: string, idemKey: string) {
    return this.alreadyPosted.get(idemKey);
  }
  async send(
    chat: string,
    text: string,
    opts: { idemKey: string; files?: Array<{ path: string; name: string }> },
  ) {
    if (this.failForever || this.failNext > 0) {
      this.failNext = Math.max(0, this.failNext - 1);
      throw new DeliveryError('test channel refused the send');
    }
    this.sent.push({
      chat,
      text,
      idemKey: opts.idemKey,
      files: (opts.files ?? []).map((f) => f.path),
    });
    const platformId = `t${this.sent.length}`;
    for (const taken of this.sendWaiters.splice(0)) taken();
    if (this.answerGate) await this.answerGate;
    return { platformId };
  }
  health() {
    return { connected: true, lastError: null, lastEventAt: null };
  }
}

let current = new TestChannel();

/** Registers the test channel once; each daemon started afterwards connects to `current`. */
export function useTestChannel(): TestChannel {
  current = new TestChannel();
  registerChannel({ name: 'test', create: () => current });
  return current;
}
