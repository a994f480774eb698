import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { InboundMessage } from '../store/messages.js';
import type { OutboundFile } from '../store/outbox.js';
import type { InboundAttachment } from './attachments.js';

/** Part of the channel contract (SendOptions.files); defined where the outbox stores it. */
export type { OutboundFile };

/** Size rules of a platform; the outbox splits replies to fit. */
export interface ChannelLimits {
  maxMessageLength: number;
}

export interface ChannelHealth {
  connected: boolean;
  lastError: string | null;
  lastEventAt: number | null;
  /** While a channel waits to be paired (WhatsApp): the QR as text blocks and/or a code. */
  pairing?: { qrText: string | null; code: string | null };
}

/** A message arriving from a platform, plus chat metadata for discovery. */
export interface Inbound extends InboundMessage {
  chatName?: string | null;
  chatKind?: 'group' | 'direct';
  /** Files that came with the message; saved into the group's folder and referenced. */
  attachments?: InboundAttachment[];
  /**
   * Set when a machine sent the message (an auto-reply, a bounce, a mailing list), with the
   * reason: it is stored as context for the next run but never starts one itself.
   */
  automatic?: string;
}

/**
 * Where adapters hand inbound messages. Resolves once the message is durably stored, so an
 * adapter may acknowledge to its platform after the promise settles.
 */
export interface InboundSink {
  receive(msg: Inbound): Promise<IntakeResult>;
}

/**
 * What intake did with a message: its seq (0 when dropped), whether it was a redelivery, and
 * whether it wakes its group — with, when it does not, why not in words a user can act on.
 */
export interface IntakeResult {
  seq: number;
  duplicate: boolean;
  dropped?: boolean;
  wakes: boolean;
  /** Why it does not wake the agent (unbound chat, sender not allowed, no trigger…). */
  quiet?: string;
}

/**
 * What the outbox passes with each piece: the platform id of the message it answers
 * (`replyTo`), whether to quote it or reply in its thread (`thread`: the group's
 * threadReplies; email threads on `replyTo` regardless), its idempotency key, files.
 */
export interface SendOptions {
  replyTo?: string | null;
  thread?: boolean;
  idemKey: string;
  files?: OutboundFile[];
}

/** Thrown by `send` to steer the retry: wait `retryAfterMs`, or give up when `permanent`. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly opts: { retryAfterMs?: number; permanent?: boolean } = {},
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/**
 * A chat platform. Contract: `send` delivers one chunk (already within `limits`) and returns the
 * platform's message id; it is called only by the outbox worker. `idemKey` is stable across
 * retries so adapters that can look up earlier sends avoid posting twice.
 */
export interface Channel {
  /** The channel's name in status, logs and metrics (`web`, `email`, …). */
  readonly name: string;
  readonly limits: ChannelLimits;
  owns(chatJid: string): boolean;
  connect(sink: InboundSink): Promise<void>;
  disconnect(): Promise<void>;
  send(chatJid: string, text: string, opts: SendOptions): Promise<{ platformId: string }>;
  /**
   * Looks up whether a message with this idempotency key was already posted (a send cut by a
   * crash). Optional: adapters whose platform can answer avoid a duplicate on retry.
   */
  findSent?(
    chatJid: string,
    idemKey: string,
    opts?: Pick<SendOptions, 'replyTo' | 'thread'>,
  ): Promise<string | undefined>;
  /** Typing indicator while a run is active; optional. */
  setTyping?(chatJid: string, on: boolean): Promise<void>;
  health(): ChannelHealth;
}

export interface ChannelContext {
  config: Config;
  log: Logger;
  /**
   * Tells the owner in `main` (deduplicated by `key`), for a problem only they can fix (a
   * rejected password). Absent where no daemon runs (doctor).
   */
  notifyOwner?: (key: string, text: string) => void;
}

/** Creates a channel from config, or says in one line why it is skipped (not configured). */
export interface ChannelFactory {
  readonly name: string;
  /**
   * May be async so an adapter loads its platform library only when it is configured (the
   * libraries are large; an unconfigured channel should cost nothing).
   */
  create(ctx: ChannelContext): Channel | { skip: string } | Promise<Channel | { skip: string }>;
}
