import { rm } from 'node:fs/promises';
import type { BaileysEventMap } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { Reconnector } from '../kit/reconnect.js';
import { bareJid } from './inbound.js';
import type { WaConnect, WaConnectionState, WaListener, WaSocket } from './types.js';

/** Baileys' DisconnectReason.loggedOut and .restartRequired (numbers, so no value import). */
const LOGGED_OUT = 401;
const RESTART_REQUIRED = 515;
const MAX_BACKOFF_MS = 60_000;

export interface WaConnectionOptions {
  /** Opens a socket: Baileys in production (socket.ts), a fake in tests. */
  connect: WaConnect;
  /** The auth state folder; removed on logout. */
  authDir: string;
  /** Pair by code for this number (digits, country code first) instead of the QR. */
  phoneNumber: string | null;
  /** First reconnect delay; doubles per failed attempt up to 60 s (default 2 s). */
  reconnectBaseMs?: number;
  /** Shows a pairing QR (production prints it in the terminal). */
  onQr?: (qr: string) => void;
  /** Renders a QR as text for health() (the web page shows it). */
  renderQr?: (qr: string) => Promise<string>;
  /** Every `messages.upsert` of the current socket. */
  onUpsert(u: BaileysEventMap['messages.upsert']): void;
  log: Logger;
}

type Handlers = { [E in 'messages.upsert' | 'connection.update']: WaListener<E> };

/**
 * The link to WhatsApp: one socket at a time with the adapter's handlers on it (the old one is
 * detached before a new one opens, so a message is never handled twice), reopened with backoff by
 * a Reconnector when it closes. An attempt succeeds when the socket says `open` and fails when it
 * closes first; pairing (a QR or a code to enter on the phone) happens while an attempt waits. A
 * logout clears the auth state and stops for good; "restart required" (after pairing) reopens
 * at the first delay.
 */
export class WaConnection {
  private current: WaConnectionState = { name: 'stopped' };
  private sock?: WaSocket;
  private handlers?: Handlers;
  private opening?: { resolve(): void; reject(err: Error): void };
  private pairingRequested = false;
  private readonly link: Reconnector;
  lastError: string | null = null;
  /** The current pairing QR rendered as text, for health(). */
  qrText: string | null = null;
  lastEventAt: number | null = null;

  constructor(private readonly opts: WaConnectionOptions) {
    this.link = new Reconnector({
      backoff: { firstMs: opts.reconnectBaseMs ?? 2000, maxMs: MAX_BACKOFF_MS },
      open: () => this.open(),
      onState: (s) => {
        if (s.name === 'connecting') this.current = { name: 'connecting', attempt: s.attempt };
        else if (s.name === 'reconnecting') {
          const reason = (s.error as Error).message;
          this.lastError = reason;
          this.current = { name: 'waiting', attempt: s.attempt, retryAt: s.retryAt, reason };
          this.opts.log.warn(
            { delayMs: s.retryAt - Date.now(), reason },
            'WhatsApp disconnected; reconnecting',
          );
        } else if (s.name === 'stopped' && this.current.name !== 'logged-out')
          this.current = { name: 'stopped' };
      },
    });
  }

  /** The connection state; `pairing` carries the QR (for a web page) or the pairing code. */
  get state(): WaConnectionState {
    return this.current;
  }

  /** The socket while connected (sends go through it). */
  get socket(): WaSocket | undefined {
    return this.current.name === 'connected' ? this.sock : undefined;
  }

  /** The socket messages arrive on (also while pairing). */
  get receiving(): WaSocket | undefined {
    return this.sock;
  }

  /** How many sockets currently have the handlers attached (0 or 1). */
  get attachedSockets(): number {
    return this.handlers ? 1 : 0;
  }

  /** Starts; resolves once the first attempt opened, failed, or ended in a logout. */
  async start(): Promise<void> {
    if (this.current.name !== 'stopped') return;
    await this.link.start();
  }

  stop(): void {
    this.link.stop();
    const opening = this.opening;
    this.opening = undefined;
    opening?.reject(new Error('stopped'));
    const sock = this.sock;
    this.detach();
    sock?.end();
  }

  /** One socket: resolves when it says `open`, rejects when it closes or cannot be made. */
  private async open(): Promise<void> {
    let sock: WaSocket;
    try {
      sock = await this.opts.connect();
    } catch (err) {
      throw new Error(`could not open a socket: ${(err as Error).message}`, { cause: err });
    }
    if (this.link.stopped) {
      sock.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.opening = { resolve, reject };
      this.attach(sock);
    });
  }

  private attach(sock: WaSocket): void {
    this.detach();
    const handlers: Handlers = {
      'messages.upsert': (u) => {
        this.lastEventAt = Date.now();
        this.opts.onUpsert(u);
      },
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
      this.current = { name: 'connected', jid };
      this.lastError = null;
      this.opts.log.info({ jid }, 'WhatsApp connected');
      this.settle();
    } else if (u.connection === 'close') {
      this.detach();
      const err = u.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string };
      const code = err?.output?.statusCode;
      if (this.link.stopped) return;
      if (code === LOGGED_OUT) {
        void this.loggedOut();
        return;
      }
      if (code === RESTART_REQUIRED) this.link.resetBackoff();
      this.settle(new Error(`connection closed (${code ?? 'no code'}): ${err?.message ?? ''}`));
    }
  }

  /** Ends the attempt in flight (opened, or failed with `err`), or reports a lost link. */
  private settle(err?: Error): void {
    const opening = this.opening;
    this.opening = undefined;
    if (!err) opening?.resolve();
    else if (opening) opening.reject(err);
    else this.link.lost(err);
  }

  private onPairing(sock: WaSocket, qr: string): void {
    const phone = this.opts.phoneNumber;
    const prev = this.current.name === 'pairing' ? this.current.pairingCode : null;
    this.current = { name: 'pairing', qr, pairingCode: prev };
    if (phone) {
      this.lastError = 'not paired: enter the pairing code on the phone (see the log)';
      if (this.pairingRequested) return;
      this.pairingRequested = true;
      sock.requestPairingCode(phone).then(
        (code) => {
          if (this.current.name === 'pairing')
            this.current = { ...this.current, pairingCode: code };
          this.opts.log.warn(
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
    this.opts.log.warn('WhatsApp not paired: scan the QR code printed in the terminal');
    this.opts.onQr?.(qr);
    this.qrText = null;
    void this.opts.renderQr?.(qr).then(
      (text) => {
        if (this.current.name === 'pairing' && this.current.qr === qr) this.qrText = text;
      },
      () => undefined,
    );
  }

  private async loggedOut(): Promise<void> {
    const reason =
      'WhatsApp logged this device out: auth state cleared, not reconnecting; restart the daemon to pair again';
    this.current = { name: 'logged-out', reason };
    this.link.stop(reason);
    this.lastError = reason;
    this.opts.log.error(reason);
    const opening = this.opening;
    this.opening = undefined;
    await rm(this.opts.authDir, { recursive: true, force: true });
    opening?.resolve();
  }
}
