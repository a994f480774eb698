import type { BaileysEventMap, WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { SentKeys } from '../kit/sent-keys.js';
import { RateLimiter, type LimiterClock } from '../rate-limiter.js';
import { WaConnection } from './connection.js';
import { selfPrefix } from './format.js';
import { parseChatId } from './inbound.js';
import { outboundContents } from './outbound.js';
import { toInbound } from './receive.js';
import type { WaConnect, WaConnectionState } from './types.js';

export interface WhatsAppSettings {
  /** Opens a socket: Baileys in production (socket.ts), a fake in tests. */
  connect: WaConnect;
  /** The auth state folder (`$CLAWPOD_HOME/channels/whatsapp/`); removed on logout. */
  authDir: string;
  /** Used for the self-mode prefix `<name>: `. */
  assistantName: string;
  /** The bot shares the owner's own number: prefix outbound texts, tell bot from owner by it. */
  selfChat: boolean;
  /** Pair by code for this number (digits, country code first) instead of the QR. */
  phoneNumber: string | null;
  perChatIntervalMs: number;
  globalPerMinute: number;
  attachmentMaxBytes: number;
  /** First reconnect delay; doubles per failed attempt up to 60 s (default 2 s). */
  reconnectBaseMs?: number;
  /** How long `connect` waits for the connection to open before returning anyway (default 5 s). */
  connectWaitMs?: number;
  /** Shows a pairing QR (production prints it in the terminal). */
  onQr?: (qr: string) => void;
  /** Renders a QR as text for health() (the web page shows it). */
  renderQr?: (qr: string) => Promise<string>;
  /** Fake time for the rate limiter in tests. */
  clock?: LimiterClock;
}

/**
 * The WhatsApp channel (Baileys, multi-device): chats `wa:<jid>`, groups end in `@g.us`.
 * Inbound messages are stored in arrival order; the bot's own sends are recognised and never
 * re-enter a prompt (in self mode by the `<assistant>: ` prefix). Outbound: text and files,
 * spaced per chat and capped per minute to stay clear of WhatsApp's spam detection. The socket's
 * lifecycle (pairing, reconnects with backoff, logout) is connection.ts's.
 */
export class WhatsAppChannel implements Channel {
  readonly name = 'wa';
  readonly limits = { maxMessageLength: 4000 };
  private readonly limiter: RateLimiter;
  private readonly link: WaConnection;
  private sink?: InboundSink;
  private lastSendAt: number | null = null;
  private inbound: Promise<void> = Promise.resolve();
  /** Platform ids of our own sends: their `fromMe` echoes are not stored again. */
  private readonly sentIds = new SentKeys<true>();
  private readonly sentKeys = new SentKeys();
  /** `<chat>\n<text>` of texts being sent now: their echo may arrive before the send returns. */
  private readonly inflight = new Set<string>();

  constructor(
    private readonly settings: WhatsAppSettings,
    private readonly log: Logger,
  ) {
    this.limiter = new RateLimiter({
      perChatIntervalMs: settings.perChatIntervalMs,
      globalPerMinute: settings.globalPerMinute,
      clock: settings.clock,
    });
    this.link = new WaConnection({
      connect: settings.connect,
      authDir: settings.authDir,
      phoneNumber: settings.phoneNumber,
      reconnectBaseMs: settings.reconnectBaseMs,
      onQr: settings.onQr,
      renderQr: settings.renderQr,
      onUpsert: (u) => this.onUpsert(u),
      log,
    });
  }

  /** The connection state; `pairing` carries the QR (for a web page) or the pairing code. */
  get connection(): WaConnectionState {
    return this.link.state;
  }

  /** How many sockets currently have this adapter's handlers attached (0 or 1). */
  get attachedSockets(): number {
    return this.link.attachedSockets;
  }

  private get prefix(): string | null {
    return selfPrefix(this.settings);
  }

  owns(chatId: string): boolean {
    return chatId.startsWith('wa:');
  }

  async connect(sink: InboundSink): Promise<void> {
    if (this.link.state.name !== 'stopped') return;
    this.sink = sink;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.connectWaitMs ?? 5000);
    });
    await Promise.race([this.link.start(), waited]);
    clearTimeout(timer);
  }

  async disconnect(): Promise<void> {
    this.link.stop();
    await this.inbound;
  }

  private onUpsert(u: BaileysEventMap['messages.upsert']): void {
    if (u.type !== 'notify' && u.type !== 'append') return;
    for (const msg of u.messages) {
      this.inbound = this.inbound
        .then(() => this.receiveOne(msg))
        .catch((err: Error) => {
          this.link.lastError = `inbound message not stored: ${err.message}`;
          this.log.error({ err: err.message }, 'WhatsApp inbound message not stored');
        });
    }
  }

  private async receiveOne(msg: WAMessage): Promise<void> {
    // Our own sends come back as fromMe upserts; the outbox already recorded them.
    if (msg.key.id && msg.key.fromMe && this.sentIds.has(msg.key.id)) return;
    const sock = this.link.receiving;
    if (!sock || !this.sink) return;
    const inbound = await toInbound(msg, sock, {
      selfPrefix: this.prefix,
      maxBytes: this.settings.attachmentMaxBytes,
      log: this.log,
      isEcho: (m) => this.inflight.has(`${m.chatId}\n${m.text}`),
    });
    if (inbound) await this.sink.receive(inbound);
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    const known = this.sentKeys.get(opts.idemKey);
    if (known) return { platformId: known };
    const jid = parseChatId(chatId);
    if (!jid) throw new DeliveryError(`not a WhatsApp chat id: ${chatId}`, { permanent: true });
    const files = opts.files ?? [];
    if (!text.trim() && !files.length)
      throw new DeliveryError('nothing to send (empty text, no files)', { permanent: true });
    const contents = outboundContents(text, files, this.prefix);
    let first: string | undefined;
    for (const content of contents) {
      const sock = this.link.socket;
      if (!sock)
        throw new DeliveryError(`WhatsApp is not connected (${this.link.state.name})`, {
          retryAfterMs: 5000,
        });
      await this.limiter.acquire(chatId);
      const echo = 'text' in content ? `${chatId}\n${content.text}` : null;
      if (echo) this.inflight.add(echo);
      try {
        const sent = await sock.sendMessage(jid, content);
        const id = sent?.key.id ?? undefined;
        if (id) this.sentIds.remember(id, true);
        first ??= id ?? `wa-${opts.idemKey}`;
      } catch (err) {
        this.link.lastError = `send failed: ${(err as Error).message}`;
        throw new DeliveryError(this.link.lastError, { retryAfterMs: 5000 });
      } finally {
        // Echoes are handled in order after the send; drop the marker once they have passed.
        if (echo) void this.inbound.then(() => this.inflight.delete(echo));
      }
    }
    const platformId = first!;
    this.sentKeys.remember(opts.idemKey, platformId);
    this.lastSendAt = Date.now();
    return { platformId };
  }

  async setTyping(chatId: string, on: boolean): Promise<void> {
    const jid = parseChatId(chatId);
    const sock = this.link.socket;
    if (!jid || !sock) return;
    await sock.sendPresenceUpdate(on ? 'composing' : 'paused', jid).catch(() => undefined);
  }

  health(): ChannelHealth {
    const state = this.link.state;
    const events = [this.link.lastEventAt, this.lastSendAt].filter((t) => t !== null);
    return {
      connected: state.name === 'connected',
      lastError: this.link.lastError,
      lastEventAt: events.length ? Math.max(...events) : null,
      ...(state.name === 'pairing'
        ? { pairing: { qrText: this.link.qrText, code: state.pairingCode } }
        : {}),
    };
  }
}
