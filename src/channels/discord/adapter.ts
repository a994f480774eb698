import { REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { TypingKeeper } from '../kit/typing.js';
import { RateLimiter } from '../rate-limiter.js';
import { GatewayConnection } from './connection.js';
import { ChannelCursors } from './cursors.js';
import { channelIdOf, DISCORD_MAX_LENGTH, DiscordPoster } from './outbound.js';
import { InboundPipeline } from './pipeline.js';

/** Discord shows "typing…" for about 10 s per call; re-sent every 8 s while a run lasts. */
const TYPING_REFRESH_MS = 8000;

/** What the adapter needs from config (the token already resolved from its `env:` ref). */
export interface DiscordSettings {
  token: string;
  apiBase: string | null;
  perChatIntervalMs: number;
  globalPerMinute: number;
  reconnectDelayMs: number;
  attachmentMaxBytes: number;
  /** Where each channel's last stored message id is kept, for catching up (none: no catch-up). */
  cursorFile?: string;
  /** How long `connect` waits for the gateway before letting the daemon go on. */
  readyTimeoutMs?: number;
}

/**
 * The Discord channel: chats `discord:<channel id>` (server channels, threads and DMs alike).
 *
 * Inbound comes over the gateway (discord.js) and goes through the InboundPipeline: one message
 * at a time per channel, in order, stored before the next; after a fresh session, what recently
 * active channels got meanwhile is fetched and fed through the same path. Edits and deletions
 * are ignored: the stored message stays as first sent. Outbound goes over REST (a client of its
 * own, independent of the gateway's state), formatted, paced and with a nonce per piece.
 */
export class DiscordChannel implements Channel {
  readonly name = 'discord';
  readonly limits = { maxMessageLength: DISCORD_MAX_LENGTH };
  private pipeline: InboundPipeline | undefined;
  private readonly gateway: GatewayConnection;
  private readonly rest: REST;
  private readonly poster: DiscordPoster;
  private readonly typing: TypingKeeper;
  private lastError: string | null = null;
  private lastSendAt: number | null = null;

  constructor(
    private readonly settings: DiscordSettings,
    private readonly log: Logger,
  ) {
    this.rest = new REST({
      ...(settings.apiBase ? { api: settings.apiBase } : {}),
      // A 429 is the outbox's to wait out (DeliveryError.retryAfterMs), not a sleep in here.
      rejectOnRateLimit: () => true,
      retries: 1,
    }).setToken(settings.token);
    this.poster = new DiscordPoster({
      rest: this.rest,
      log,
      limiter: new RateLimiter({
        perChatIntervalMs: settings.perChatIntervalMs,
        globalPerMinute: settings.globalPerMinute,
      }),
    });
    this.typing = new TypingKeeper({
      send: async (chat) => {
        await this.rest.post(Routes.channelTyping(channelIdOf(chat)));
      },
      everyMs: TYPING_REFRESH_MS,
      onError: (chat, err) =>
        log.debug({ chat, err: (err as Error).message }, 'typing indicator failed'),
    });
    this.gateway = new GatewayConnection({
      token: settings.token,
      apiBase: settings.apiBase,
      log,
      reconnectDelayMs: settings.reconnectDelayMs,
      readyTimeoutMs: settings.readyTimeoutMs,
      onMessage: (message, bot) => this.pipeline?.onMessage(message, bot),
      onSession: (client, bot) => this.pipeline?.catchUp(client, bot),
    });
  }

  owns(chatId: string): boolean {
    return chatId.startsWith('discord:');
  }

  async connect(sink: InboundSink): Promise<void> {
    this.pipeline = new InboundPipeline({
      sink,
      cursors: new ChannelCursors(this.settings.cursorFile),
      attachmentMaxBytes: this.settings.attachmentMaxBytes,
      log: this.log,
      onError: (what) => (this.lastError = what),
    });
    await this.gateway.start();
  }

  async disconnect(): Promise<void> {
    this.typing.stopAll();
    await this.gateway.stop();
    await this.pipeline?.drain();
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    try {
      const platformId = await this.poster.post(chatId, text, opts);
      this.lastSendAt = Date.now();
      return { platformId };
    } catch (err) {
      // A rate limit is the platform pacing us, not a fault worth showing in status.
      if (!(err instanceof DeliveryError && err.opts.retryAfterMs !== undefined))
        this.lastError = `send to ${chatId}: ${(err as Error).message}`;
      throw err;
    }
  }

  async setTyping(chatId: string, on: boolean): Promise<void> {
    this.typing.set(chatId, on);
  }

  health(): ChannelHealth {
    const events = [this.gateway.lastEventAt, this.lastSendAt].filter((t) => t !== null);
    return {
      connected: this.gateway.connected,
      lastError: this.lastError ?? this.gateway.lastError,
      lastEventAt: events.length ? Math.max(...events) : null,
    };
  }
}
