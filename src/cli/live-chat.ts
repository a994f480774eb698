import type { RunRecord } from '../store/runs.js';
import type { ApiClient, ChatMessage, EventSubscription } from './api-client.js';
import type { SseEvent } from './sse.js';

export interface LiveChatHandlers {
  /** Each message of the chat, once, in the order received. */
  onMessage(msg: ChatMessage): void;
  /** Every run event the daemon announces (all groups). */
  onRun?(run: RunRecord): void;
  /** The stream dropped (`lost`) or came back after a drop (`restored`). */
  onConnection?(state: 'lost' | 'restored', detail?: string): void;
}

/** Parses the data of an SSE `message` event; undefined when it is not one. */
export function parseMessageEvent(ev: SseEvent): ChatMessage | undefined {
  if (ev.event !== 'message') return undefined;
  try {
    const m = JSON.parse(ev.data) as Partial<ChatMessage>;
    if (
      typeof m.seq !== 'number' ||
      typeof m.text !== 'string' ||
      (m.direction !== 'in' && m.direction !== 'out')
    )
      return undefined;
    return {
      seq: m.seq,
      chat: m.chat,
      direction: m.direction,
      sender: String(m.sender ?? ''),
      text: m.text,
      ts: Number(m.ts ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** Parses the data of an SSE `run` event; undefined when it is not one. */
export function parseRunEvent(ev: SseEvent): RunRecord | undefined {
  if (ev.event !== 'run') return undefined;
  try {
    const r = JSON.parse(ev.data) as Partial<RunRecord>;
    return typeof r.id === 'string' && typeof r.status === 'string' ? (r as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

const READY_TIMEOUT_MS = 10_000;
const PAGE = 500;

/**
 * Follows one chat live: the SSE stream for new messages and runs, plus catch-up reads of
 * `GET /api/chats/:chat/messages` after every (re)connect, so nothing is missed or repeated.
 * Reconnects with backoff until {@link LiveChat.stop}.
 */
export class LiveChat {
  private sub: EventSubscription | undefined;
  private stopped = false;
  private cursor: number | null = null;
  private readonly seen = new Set<number>();

  constructor(
    private readonly client: ApiClient,
    private readonly chat: string,
    private readonly handlers: LiveChatHandlers,
  ) {}

  /**
   * Connects and waits for the stream's `ready`. With `catchUpAfter`, also delivers the stored
   * messages after that seq. Throws when the first connection fails.
   */
  async start(catchUpAfter: number | null = null): Promise<void> {
    this.cursor = catchUpAfter;
    await this.connect();
    void this.supervise();
  }

  /** Delivers stored messages with seq > `after` that were not delivered yet. */
  async catchUp(after: number): Promise<void> {
    let from = after;
    for (;;) {
      const page = await this.client.chatMessages(this.chat, from);
      for (const m of page) this.deliver({ ...m, chat: this.chat });
      if (page.length < PAGE || this.stopped) return;
      from = page[page.length - 1]!.seq;
    }
  }

  /** Closes the stream and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    this.sub?.close();
  }

  private deliver(msg: ChatMessage): void {
    if (this.stopped || this.seen.has(msg.seq)) return;
    this.seen.add(msg.seq);
    this.cursor = Math.max(this.cursor ?? 0, msg.seq);
    this.handlers.onMessage(msg);
  }

  private async connect(): Promise<void> {
    let onReady: (cursor: number | null) => void = () => undefined;
    const ready = new Promise<number | null>((resolve) => (onReady = resolve));
    const sub = await this.client.subscribe({
      chat: this.chat,
      onEvent: (ev) => {
        // Capture the cursor synchronously: events after `ready` may be in the same chunk.
        if (ev.event === 'ready') return onReady(this.cursor);
        const msg = parseMessageEvent(ev);
        if (msg && (msg.chat === undefined || msg.chat === this.chat)) return this.deliver(msg);
        const run = parseRunEvent(ev);
        if (run && !this.stopped) this.handlers.onRun?.(run);
      },
    });
    this.sub = sub;
    let timer: NodeJS.Timeout | undefined;
    try {
      const cursor = await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no ready event from ${this.client.baseUrl}/api/events`)),
            READY_TIMEOUT_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (this.stopped) return sub.close();
      if (cursor !== null) await this.catchUp(cursor);
    } catch (err) {
      sub.close();
      throw err;
    }
  }

  private async supervise(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      const why = await this.sub!.closed;
      if (why === null || this.stopped) return;
      this.handlers.onConnection?.('lost', why.message);
      for (;;) {
        await new Promise((r) => setTimeout(r, delay));
        if (this.stopped) return;
        try {
          await this.connect();
          delay = 500;
          this.handlers.onConnection?.('restored');
          break;
        } catch {
          delay = Math.min(delay * 2, 10_000);
        }
      }
    }
  }
}
