import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { z } from 'zod';
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
  owns(chatId: string): boolean;
  connect(sink: InboundSink): Promise<void>;
  disconnect(): Promise<void>;
  send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }>;
  /**
   * Looks up whether a message with this idempotency key was already posted (a send cut by a
   * crash). Optional: adapters whose platform can answer avoid a duplicate on retry.
   */
  findSent?(
    chatId: string,
    idemKey: string,
    opts?: Pick<SendOptions, 'replyTo' | 'thread'>,
  ): Promise<string | undefined>;
  /** Typing indicator while a run is active; optional. */
  setTyping?(chatId: string, on: boolean): Promise<void>;
  health(): ChannelHealth;
  /**
   * HTTP routes this channel serves on the daemon's one server (see ChannelRoutes). Called
   * once, after `create` and before `connect`; a route may be hit before `connect` (answer
   * 5xx then: the platform sends again).
   */
  routes?(): ChannelRoutes;
}

/**
 * A channel's part of the daemon's HTTP server. The daemon mounts `platform` at
 * `/channels/<factory name>` and `api` under `/api`.
 */
export interface ChannelRoutes {
  /**
   * Calls from the platform (Telegram's webhook, Slack's Events API). They carry their own
   * authentication (a secret header, a signature), which these routes check: the API token
   * does not apply to them. The Host check does (http.allowedHosts names a proxy's public host).
   */
  platform?: Hono;
  /** Routes for the owner's clients (the web chat, the CLI), behind the API token. */
  api?: Hono;
}

export interface ChannelContext<Settings = unknown> {
  config: Config;
  /**
   * This channel's block of config.yaml (`channels.<name>`), parsed by the factory's own
   * `settings` schema (defaults applied); undefined when the block is absent.
   */
  settings: Settings;
  log: Logger;
  /**
   * Tells the owner in `main` (deduplicated by `key`), for a problem only they can fix (a
   * rejected password). Absent where no daemon runs (doctor).
   */
  notifyOwner?: (key: string, text: string) => void;
  /**
   * Whether the daemon takes new messages now (false while it starts and stops): a route that
   * takes messages answers 503 otherwise. Absent: always.
   */
  accepting?: () => boolean;
}

/** One line of `clawpod doctor` (the shape of the CLI's CheckResult). */
export interface ChannelCheck {
  level: 'ok' | 'warn' | 'fail';
  title: string;
  /** What to do about it (shown for warn and fail). */
  fix?: string;
}

/** What a channel's live check gets: its block, the config, and how long it may take. */
export interface ChannelCheckContext<Settings = unknown> {
  config: Config;
  settings: Settings;
  timeoutMs: number;
}

/**
 * A channel kind, listed explicitly in `builtinChannels` (channels/index.ts) or handed to the
 * daemon (DaemonOptions.channels). `settings` is its block of config.yaml, composed into the
 * config schema under `channels.<name>`: it must accept an absent block (`.optional()`), and it
 * holds the block's defaults. Importing the module that defines a factory must stay cheap: the
 * platform library is loaded by `create` (and `check`), only when the channel is configured.
 */
export interface ChannelFactory<
  Name extends string = string,
  Settings extends z.ZodType = z.ZodType,
> {
  /** The key under `channels` in config.yaml, and the mount point of its platform routes. */
  readonly name: Name;
  readonly settings: Settings;
  /** Creates the channel from config, or says in one line why it is skipped (not configured). */
  create(
    ctx: ChannelContext<z.output<Settings>>,
  ): Channel | { skip: string } | Promise<Channel | { skip: string }>;
  /**
   * The live check behind `clawpod doctor` for a configured block: a login with the configured
   * secrets, bounded by `timeoutMs`, failures quoting the platform with a fix. Never throws.
   */
  check?(ctx: ChannelCheckContext<z.output<Settings>>): Promise<ChannelCheck[]>;
}
