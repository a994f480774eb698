import { rm } from 'node:fs/promises';
import type { BaileysEventMap, WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { RateLimiter, type LimiterClock } from '../rate-limiter.js';
import { bareJid, parseChatJid } from './inbound.js';
import { outboundContents, remember } from './outbound.js';
import { toInbound } from './receive.js';
import type { WaConnect, WaConnectionState, WaListener, WaSocket } from './types.js';

/** Baileys' DisconnectReason.loggedOut and .restartRequired (numbers, so no value import). */
const LOGGED_OUT = 401;
const RESTART_REQUIRED = 515;
const MAX_BACKOFF_MS = 60_000;

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

type Handlers = { [E in 'messages.upsert' | 'connection.update']: WaListener<E> };

/**
 * The WhatsApp channel (Baileys, multi-device): chats `wa:<jid>`, groups end in `@g.us`.
 * Inbound messages are stored in arrival order; the bot's own sends are recognised and never
 * re-enter a prompt (in self mode by the `<assistant>: ` prefix). Outbound: text and files,
 * spaced per chat and capped per minute to stay clear of WhatsApp's spam detection. A closed
 * connection is reopened with backoff; a logout clears the auth state and stops.
 */
export class WhatsAppChannel implements Channel {
  readonly name = 'wa';
  readonly limits = { maxMessageLength: 4000 };
  private readonly limiter: RateLimiter;
  private state: WaConnectionState = { name: 'stopped' };
  private sock?: WaSocket;
  private handlers?: Handlers;
  private sink?: InboundSink;
  private lastError: string | null = null;
  /** The current pairing QR rendered as text, for health(). */
  private qrText: string | null = null;
  private lastEventAt: number | null = null;
  private stopping = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private pairingRequested = false;
  private inbound: Promise<void> = Promise.resolve();
  private readonly sentIds = new Set<string>();
  private readonly sentKeys = new Map<string, string>();
  /** `<chat>\n<text>` of texts being sent now: their echo may arrive before the send returns. */
  private readonly inflight = new Set<string>();
  private opened?: () => void;

  constructor(
    private readonly settings: WhatsAppSettings,
    private readonly log: Logger,
  ) {
    this.limiter = new RateLimiter({
      perChatIntervalMs: settings.perChatIntervalMs,
      globalPerMinute: settings.globalPerMinute,
      clock: settings.clock,
    });
  }

  /** The connection state; `pairing` carries the QR (for a web page) or the pairing code. */
  get connection(): WaConnectionState {
    return this.state;
  }

  /** How many sockets currently have this adapter's handlers attached (0 or 1). */
  get attachedSockets(): number {
    return this.handlers ? 1 : 0;
  }

  private get prefix(): string | null {
    return this.settings.selfChat ? `${this.settings.assistantName}: ` : null;
  }

  owns(chatJid: string): boolean {
    return chatJid.startsWith('wa:');
  }

  async connect(sink: InboundSink): Promise<void> {
    if (this.state.name !== 'stopped') return;
    this.sink = sink;
    this.stopping = false;
    let timer: NodeJS.Timeout | undefined;
    const first = new Promise<void>((resolve) => {
      this.opened = resolve;
      timer = setTimeout(resolve, this.settings.connectWaitMs ?? 5000);
    });
    void this.open();
    await first;
    clearTimeout(timer);
  }

  async disconnect(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const sock = this.sock;
    this.detach();
    sock?.end();
    if (this.state.name !== 'logged-out') this.state = { name: 'stopped' };
    await this.inbound;
  }

  private async open(): Promise<void> {
    this.state = { name: 'connecting', attempt: this.attempt };
    let sock: WaSocket;
    try {
      sock = await this.settings.connect();
    } catch (err) {
      this.scheduleReconnect(`could not open a socket: ${(err as Error).message}`);
      return;
    }
    if (this.stopping) {
      sock.end();
      return;
    }
    this.attach(sock);
  }

  /** Handlers go on exactly one socket: the old one is detached before a new one opens. */
  private attach(sock: WaSocket): void {
    this.detach();
    const handlers: Handlers = {
      'messages.upsert': (u) => this.onUpsert(u),
      'connection.update': (u) => this.onConnection(sock, u),
    };
    sock.ev.on('messages.upsert', handlers['messages.upsert']);
    sock.ev.on('connection.update', handlers['connection.update']);
    this.sock = sock;
    this.handlers = handlers;
  }

  private detach(): void {
    if (this.sock && this.handlers) {
      this.sock.ev.off('messages.upsert', this.handlers['messages.upsert']);
      this.sock.ev.off('connection.update', this.handlers['connection.update']);
    }
    this.sock = undefined;
    this.handlers = undefined;
  }

  private onConnection(sock: WaSocket, u: BaileysEventMap['connection.update']): void {
    this.lastEventAt = Date.now();
    if (u.qr) this.onPairing(sock, u.qr);
    if (u.connection === 'open') {
      const jid = sock.user ? bareJid(sock.user.id) : 'unknown';
      this.state = { name: 'connected', jid };
      this.attempt = 0;
      this.lastError = null;
      this.log.info({ jid }, 'WhatsApp connected');
      this.opened?.();
    } else if (u.connection === 'close') {
      this.detach();
      const err = u.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string };
      const code = err?.output?.statusCode;
      if (this.stopping) return;
      if (code === LOGGED_OUT) {
        void this.loggedOut();
        return;
      }
      if (code === RESTART_REQUIRED) this.attempt = 0;
      this.scheduleReconnect(`connection closed (${code ?? 'no code'}): ${err?.message ?? ''}`);
    }
  }

  private onPairing(sock: WaSocket, qr: string): void {
    const phone = this.settings.phoneNumber;
    const prev = this.state.name === 'pairing' ? this.state.pairingCode : null;
    this.state = { name: 'pairing', qr, pairingCode: prev };
    if (phone) {
      this.lastError = 'not paired: enter the pairing code on the phone (see the log)';
      if (this.pairingRequested) return;
      this.pairingRequested = true;
      sock.requestPairingCode(phone).then(
        (code) => {
          if (this.state.name === 'pairing') this.state = { ...this.state, pairingCode: code };
          this.log.warn(
            { pairingCode: code },
            'WhatsApp: enter this code on the phone (Linked devices → Link with phone number)',
          );
        },
        (err: Error) => {
          this.pairingRequested = false;
          this.lastError = `pairing code request failed: ${err.message}`;
        },
      );
      return;
    }
    this.lastError =
      'not paired: scan the QR code (terminal, or connection.qr) with WhatsApp → Linked devices';
    this.log.warn('WhatsApp not paired: scan the QR code printed in the terminal');
    this.settings.onQr?.(qr);
    this.qrText = null;
    void this.settings.renderQr?.(qr).then(
      (text) => {
        if (this.state.name === 'pairing' && this.state.qr === qr) this.qrText = text;
      },
      () => undefined,
    );
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopping) return;
    this.lastError = reason;
    const base = this.settings.reconnectBaseMs ?? 2000;
    const delay = Math.min(base * 2 ** this.attempt, MAX_BACKOFF_MS);
    this.attempt++;
    this.state = { name: 'waiting', attempt: this.attempt, retryAt: Date.now() + delay, reason };
    this.log.warn({ delayMs: delay, reason }, 'WhatsApp disconnected; reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), delay);
  }

  private async loggedOut(): Promise<void> {
    const reason =
      'WhatsApp logged this device out: auth state cleared, not reconnecting; restart the daemon to pair again';
    this.state = { name: 'logged-out', reason };
    this.lastError = reason;
    this.log.error(reason);
    await rm(this.settings.authDir, { recursive: true, force: true });
    this.opened?.();
  }

  private onUpsert(u: BaileysEventMap['messages.upsert']): void {
    this.lastEventAt = Date.now();
    if (u.type !== 'notify' && u.type !== 'append') return;
    for (const msg of u.messages) {
      this.inbound = this.inbound
        .then(() => this.receiveOne(msg))
        .catch((err: Error) => {
          this.lastError = `inbound message not stored: ${err.message}`;
          this.log.error({ err: err.message }, 'WhatsApp inbound message not stored');
        });
    }
  }

  private async receiveOne(msg: WAMessage): Promise<void> {
    // Our own sends come back as fromMe upserts; the outbox already recorded them.
    if (msg.key.id && msg.key.fromMe && this.sentIds.has(msg.key.id)) return;
    const sock = this.sock;
    if (!sock || !this.sink) return;
    const inbound = await toInbound(msg, sock, {
      selfPrefix: this.prefix,
      maxBytes: this.settings.attachmentMaxBytes,
      log: this.log,
      isEcho: (m) => this.inflight.has(`${m.chatJid}\n${m.text}`),
    });
    if (inbound) await this.sink.receive(inbound);
  }

  async send(chatJid: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    const known = this.sentKeys.get(opts.idemKey);
    if (known) return { platformId: known };
    const jid = parseChatJid(chatJid);
    if (!jid) throw new DeliveryError(`not a WhatsApp chat id: ${chatJid}`, { permanent: true });
    const files = opts.files ?? [];
    if (!text.trim() && !files.length)
      throw new DeliveryError('nothing to send (empty text, no files)', { permanent: true });
    const contents = outboundContents(text, files, this.prefix);
    let first: string | undefined;
    for (const content of contents) {
      const sock = this.sock;
      if (!sock || this.state.name !== 'connected')
        throw new DeliveryError(`WhatsApp is not connected (${this.state.name})`, {
          retryAfterMs: 5000,
        });
      await this.limiter.acquire(chatJid);
      const echo = 'text' in content ? `${chatJid}\n${content.text}` : null;
      if (echo) this.inflight.add(echo);
      try {
        const sent = await sock.sendMessage(jid, content);
        const id = sent?.key.id ?? undefined;
        if (id) remember(this.sentIds, id);
        first ??= id ?? `wa-${opts.idemKey}`;
      } catch (err) {
        this.lastError = `send failed: ${(err as Error).message}`;
        throw new DeliveryError(this.lastError, { retryAfterMs: 5000 });
      } finally {
        // Echoes are handled in order after the send; drop the marker once they have passed.
        if (echo) void this.inbound.then(() => this.inflight.delete(echo));
      }
    }
    const platformId = first!;
    this.sentKeys.set(opts.idemKey, platformId);
    if (this.sentKeys.size > 1000) this.sentKeys.delete(this.sentKeys.keys().next().value!);
    this.lastEventAt = Date.now();
    return { platformId };
  }

  async setTyping(chatJid: string, on: boolean): Promise<void> {
    const jid = parseChatJid(chatJid);
    if (!jid || !this.sock || this.state.name !== 'connected') return;
    await this.sock.sendPresenceUpdate(on ? 'composing' : 'paused', jid).catch(() => undefined);
  }

  health(): ChannelHealth {
    return {
      connected: this.state.name === 'connected',
      lastError: this.lastError,
      lastEventAt: this.lastEventAt,
      ...(this.state.name === 'pairing'
        ? { pairing: { qrText: this.qrText, code: this.state.pairingCode } }
        : {}),
    };
  }
}
