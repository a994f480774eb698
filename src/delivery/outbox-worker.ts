import type { Logger } from 'pino';
import type { ChannelSet } from '../channels/registry.js';
import { DeliveryError, type MessageAction } from '../channels/channel.js';
import type { EventBus } from '../events/bus.js';
import { backoffDelay } from '../queue/backoff.js';
import { ownerChat } from '../conversation/owner-chat.js';
import type { Store } from '../store/store.js';
import type { OutboundFile, OutboxItem } from '../store/outbox.js';
import { isSqliteStorageError, storageError, storageProblemOf } from '../store/storage-errors.js';
import { chunkText } from './chunk.js';

/**
 * Buttons under outbox pieces (approval cards), looked up when a piece is sent, so a card
 * whose approval was decided before it went out goes without them.
 */
export interface OutboxActions {
  /** The buttons to send under this piece now; undefined: plain text. */
  for(item: OutboxItem): readonly MessageAction[] | undefined;
  /** The piece was delivered (and recorded) as `platformId`. Must not throw. */
  delivered(item: OutboxItem, platformId: string): void;
}

export interface OutboxWorkerOptions {
  store: Store;
  channels: ChannelSet;
  bus: EventBus;
  log: Logger;
  retry: { baseDelayMs: number; maxAttempts: number };
  /** How long the worker waits after the store refused a write (default 5 s). */
  storageRetryMs?: number;
  /** Buttons for approval cards; absent: every piece is plain text. */
  actions?: OutboxActions;
  /** The owner's ids on the channels (config `owner.ids`): where notices go, see ownerChat. */
  ownerIds?: readonly string[];
  now?: () => number;
}

/** `draining` holds the pass in progress: `stop` waits for it (its sends in flight). */
type WorkerState =
  | { name: 'stopped' }
  | { name: 'idle'; timer?: NodeJS.Timeout }
  | { name: 'draining'; done: Promise<void> };

/**
 * Delivers outbox rows. Event-driven: `kick()` after a commit, plus one timer armed for the
 * earliest retry. Each row is sent at most once successfully: its idempotency key is unique, a
 * sent row is never picked again, and the web channel records by key.
 */
export class OutboxWorker {
  private state: WorkerState = { name: 'stopped' };
  private again = false;
  /** Sends started and not yet recorded (for the stop log). */
  private inFlight = 0;
  private readonly now: () => number;

  constructor(private readonly opts: OutboxWorkerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Writes one logical reply, split to the target channel's limit, each piece under
   * `<key>#<n>`. Safe inside a caller's transaction; call `kick()` after commit.
   */
  enqueue(item: {
    key: string;
    chatId: string;
    text: string;
    replyTo?: string | null;
    thread?: boolean;
    runId?: string | null;
    files?: OutboundFile[];
  }): number {
    const limit = this.opts.channels.forChat(item.chatId)?.limits.maxMessageLength ?? 4000;
    const pieces = chunkText(item.text, limit);
    // A file-only message still needs one row to carry the files.
    if (pieces.length === 0 && item.files?.length) pieces.push('');
    let added = 0;
    pieces.forEach((text, i) => {
      const idemKey = pieces.length === 1 ? item.key : `${item.key}#${i + 1}`;
      const files = i === pieces.length - 1 ? item.files : undefined; // files go with the last piece
      if (this.opts.store.outbox.enqueue({ ...item, idemKey, text, files }, this.now())) added++;
    });
    return added;
  }

  /** The chat the owner is told things in (see ownerChat); null without a main chat. */
  ownerChat(): string | null {
    return ownerChat(this.opts.store, this.opts.ownerIds ?? []);
  }

  /** Tells the owner in `main`, where they are (see ownerChat). Deduplicated by `key`. */
  notifyOwner(key: string, text: string): void {
    const chat = this.ownerChat();
    if (!chat) {
      this.opts.log.error({ key }, 'no main chat to notify the owner');
      return;
    }
    this.enqueue({ key: `notice:${key}`, chatId: chat, text });
    this.kick();
  }

  start(): void {
    this.state = { name: 'idle' };
    this.kick();
  }

  /**
   * Picks up no more rows; resolves once the sends already in flight have ended and their
   * outcome is recorded (or after `timeoutMs`). A reply the platform took while the daemon
   * was stopping is so recorded as sent, not sent again at the next start; rows not yet
   * picked stay pending for it.
   */
  async stop(timeoutMs = 0): Promise<void> {
    const s = this.state;
    if (s.name === 'idle' && s.timer) clearTimeout(s.timer);
    this.state = { name: 'stopped' };
    if (s.name !== 'draining') return;
    this.opts.log.info({ inFlight: this.inFlight }, 'stopping: waiting for deliveries in flight');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([s.done, timeout]);
    clearTimeout(timer);
  }

  /** Looks for due rows now (coalesced: a kick while draining runs one more pass). */
  kick(): void {
    if (this.state.name === 'stopped') return;
    if (this.state.name === 'draining') {
      this.again = true;
      return;
    }
    if (this.state.timer) clearTimeout(this.state.timer);
    let passed!: () => void;
    this.state = { name: 'draining', done: new Promise<void>((r) => (passed = r)) };
    void this.drain().finally(passed);
  }

  /**
   * Chats are served in parallel (one slow or rate-limited chat never holds up another), each
   * strictly in order: a piece waiting for its retry holds back the pieces after it.
   */
  private async drain(): Promise<void> {
    let nextAt: number | undefined;
    try {
      nextAt = await this.passes();
    } catch (err) {
      // The store refused a write (locked, disk full): nothing is lost (a row cut mid-send stays
      // `sending` and is checked with the platform first); look again later.
      const problem = storageProblemOf(err);
      if (problem) {
        const e = storageError(err, this.opts.store.where);
        this.opts.store.health.failed(e);
        this.opts.log.warn({ err: e.message }, 'outbox paused: the store refused a write');
      } else {
        this.opts.log.error({ err }, 'outbox pass failed; will look again');
      }
      nextAt = this.now() + (this.opts.storageRetryMs ?? 5000);
    }
    if (this.state.name === 'stopped') return;
    this.state = { name: 'idle', timer: this.armTimer(nextAt) };
  }

  /** Delivery passes until nothing new came in meanwhile; returns the earliest retry due. */
  private async passes(): Promise<number | undefined> {
    let nextAt: number | undefined;
    do {
      this.again = false;
      const byChat = new Map<string, OutboxItem[]>();
      for (const item of this.opts.store.outbox.undelivered(1000)) {
        const list = byChat.get(item.chatId) ?? [];
        list.push(item);
        byChat.set(item.chatId, list);
      }
      const now = this.now();
      nextAt = undefined;
      // allSettled: every chat's send in flight ends before a failed pass gives up.
      const settled = await Promise.allSettled(
        [...byChat.values()].map(async (items) => {
          for (const item of items) {
            if (this.state.name === 'stopped') return undefined;
            if (item.nextAttemptAt > now) return item.nextAttemptAt;
            if ((await this.deliver(item)) === 'retry')
              return this.opts.store.outbox.get(item.id)?.nextAttemptAt;
          }
          return undefined;
        }),
      );
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const heads = settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      for (const h of heads) if (h !== undefined) nextAt = Math.min(nextAt ?? h, h);
      if (heads.length === 1000) this.again = true;
    } while (this.again && this.state.name !== 'stopped');
    return nextAt;
  }

  /** One timer for the earliest retry among the chats' first waiting pieces. */
  private armTimer(next: number | undefined): NodeJS.Timeout | undefined {
    if (next === undefined) return undefined;
    const delay = Math.min(Math.max(0, next - this.now()), 2 ** 31 - 1);
    return setTimeout(() => this.kick(), delay).unref();
  }

  private async deliver(item: OutboxItem): Promise<'sent' | 'dead' | 'retry'> {
    const { store, channels, bus, log, retry } = this.opts;
    const channel = channels.forChat(item.chatId);
    store.outbox.markSending(item.id);
    const attempts = item.attempts + 1;
    this.inFlight++;
    try {
      if (!channel) throw new DeliveryError(`no connected channel handles ${item.chatId}`);
      // A send cut by a crash may have reached the platform: ask before posting again.
      const earlier =
        item.status === 'sending'
          ? await channel.findSent?.(item.chatId, item.idemKey, item)
          : undefined;
      const { platformId } = earlier
        ? { platformId: earlier }
        : await channel.send(item.chatId, item.text, {
            replyTo: item.replyTo,
            thread: item.thread,
            idemKey: item.idemKey,
            files: item.files,
            actions: this.opts.actions?.for(item),
          });
      const recorded = [item.text, ...item.files.map((f) => `[file: ${f.name}]`)]
        .filter(Boolean)
        .join('\n');
      const stored = store.tx(() => {
        store.outbox.markSent(item.id, platformId, this.now());
        return store.messages.insert(
          {
            chatId: item.chatId,
            platformId,
            sender: 'assistant',
            text: recorded,
            ts: this.now(),
            replyTo: item.replyTo,
            isBot: true,
          },
          'out',
        );
      });
      const msg = store.messages.get(stored.seq);
      if (msg && stored.inserted) bus.emit('message', msg);
      this.opts.actions?.delivered(item, platformId);
    } catch (err) {
      // The store's fault, not the channel's: the row keeps its state and the pass stops (see
      // drain). A file error while sending (e.g. reading an upload) is a delivery failure.
      if (isSqliteStorageError(err)) throw err;
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError(err instanceof Error ? err.message : String(err));
      const itemLog = log.child({ chat: item.chatId, outbox: item.id, attempts });
      if (e.opts.permanent || attempts >= retry.maxAttempts) {
        const deadId = store.tx(() => {
          store.outbox.markDead(item.id, e.message);
          return store.deadLetters.add({
            kind: 'outbox',
            group: store.groups.groupForChat(item.chatId)?.folder ?? null,
            chatId: item.chatId,
            ref: item.idemKey,
            seqStart: null,
            seqEnd: null,
            error: e.message,
            createdAt: this.now(),
          });
        });
        itemLog.error({ err: e.message }, 'delivery failed every attempt; dead-lettered');
        bus.emit('outbox-dead', { idemKey: item.idemKey, chatId: item.chatId, error: e.message });
        if (!item.idemKey.startsWith('notice:')) {
          this.notifyOwner(
            `outbox-dead:${deadId}`,
            `⚠️ A reply to ${item.chatId} could not be delivered after ${attempts} attempts: ${e.message}. It is kept as dead letter #${deadId}: \`clawpod deadletters retry ${deadId}\` sends it again, \`clawpod deadletters discard ${deadId}\` drops it.`,
          );
        }
        return 'dead';
      }
      const delay = e.opts.retryAfterMs ?? backoffDelay(retry.baseDelayMs, attempts);
      itemLog.warn({ err: e.message, retryInMs: delay }, 'delivery failed; will retry');
      store.outbox.markRetry(item.id, e.message, this.now() + delay);
      return 'retry';
    } finally {
      this.inFlight--;
    }
    return 'sent';
  }
}
