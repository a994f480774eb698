import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type ChannelRoutes,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { RateLimiter } from '../rate-limiter.js';
import { SlackConnection } from './connection.js';
import { parseSlackChatId, type SlackTarget } from './ids.js';
import { toInbound } from './inbound.js';
import { slackLogger } from './log.js';
import { SlackLookups, TtlCache } from './lookups.js';
import { SlackPoster } from './outbound.js';

/**
 * Characters per posted message. Slack cuts `text` at 40,000 characters and renders long
 * messages poorly; replies are split well below that, on paragraph and line boundaries.
 */
export const SLACK_MAX_MESSAGE = 3900;

export interface SlackSettings {
  mode: 'socket' | 'http';
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  /** Web API base, e.g. `https://slack.com/api/`. */
  apiUrl: string;
  perChatIntervalMs: number;
  globalPerMinute: number;
  reconnectDelayMs: number;
  /** `@<name>` replaces the bot's own mention in stored text. */
  assistantName: string;
  /** Attachments larger than this are not downloaded (a note says so). */
  maxAttachmentBytes: number;
}

/**
 * The Slack channel (Bolt). Chats are `slack:<channel id>`, and `slack:<channel id>/<thread ts>`
 * for a thread: a message in a thread arrives on the thread's chat and the reply is posted in
 * the thread. Inbound events are handled one at a time per channel, in arrival order, and
 * acknowledged after `sink.receive` resolved. `send` posts one chunk (the outbox has split it);
 * `findSent` looks a crashed send up by the key in its message metadata. Slack bots have no
 * typing indicator, so there is no `setTyping`.
 */
export class SlackChannel implements Channel {
  readonly name = 'slack';
  readonly limits = { maxMessageLength: SLACK_MAX_MESSAGE };
  private sink?: InboundSink;
  private lastEventAt: number | null = null;
  private readonly connection: SlackConnection;
  private readonly poster: SlackPoster;
  private readonly lookups: SlackLookups;
  /** Per-channel chains: events of one channel are stored in the order they arrived. */
  private readonly chains = new Map<string, Promise<void>>();
  /** `channel:ts` of stored messages: the app_mention twin of a message, or a redelivery. */
  private readonly stored = new TtlCache<true>(5000, 3_600_000);

  constructor(
    private readonly settings: SlackSettings,
    private readonly log: Logger,
  ) {
    const api = new webApi.WebClient(settings.botToken, {
      slackApiUrl: settings.apiUrl,
      logger: slackLogger(log),
      // The outbox retries; a hidden retry inside the client could post a message twice.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: 30_000,
    });
    const limiter = new RateLimiter({
      perChatIntervalMs: settings.perChatIntervalMs,
      globalPerMinute: settings.globalPerMinute,
    });
    this.connection = new SlackConnection({
      mode: settings.mode,
      botToken: settings.botToken,
      appToken: settings.appToken,
      signingSecret: settings.signingSecret,
      apiUrl: settings.apiUrl,
      reconnectDelayMs: settings.reconnectDelayMs,
      api,
      log,
      onEvent: (event) => this.enqueue(event),
    });
    this.lookups = new SlackLookups(api, settings.botToken, settings.apiUrl);
    this.poster = new SlackPoster(api, limiter, () => this.connection.identity, log);
  }

  owns(chatId: string): boolean {
    return chatId.startsWith('slack:');
  }

  async connect(sink: InboundSink): Promise<void> {
    this.sink = sink;
    await this.connection.start();
  }

  async disconnect(): Promise<void> {
    await this.connection.stop();
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    return this.poster.send(this.replyTarget(chatId, opts), text, opts.idemKey, opts.files);
  }

  async findSent(
    chatId: string,
    idemKey: string,
    opts: Pick<SendOptions, 'replyTo' | 'thread'> = {},
  ): Promise<string | undefined> {
    return this.poster.findSent(this.replyTarget(chatId, opts), idemKey);
  }

  /**
   * Where a reply goes: the chat's channel or thread, or, where the group asks for it
   * (threadReplies), the thread of the message it answers (its ts) in a channel.
   */
  private replyTarget(chatId: string, opts: Pick<SendOptions, 'replyTo' | 'thread'>): SlackTarget {
    const target = this.target(chatId);
    return opts.thread && !target.threadTs && opts.replyTo && /^\d+\.\d+$/.test(opts.replyTo)
      ? { ...target, threadTs: opts.replyTo }
      : target;
  }

  health(): ChannelHealth {
    return {
      connected: this.connection.connected(),
      lastError: this.connection.lastError,
      lastEventAt: this.lastEventAt,
    };
  }

  /** The state of the link to Slack (for tests and diagnostics). */
  connectionState(): SlackConnection['state']['name'] {
    return this.connection.state.name;
  }

  /** http mode: the Events API route (`POST /channels/slack/events` on the daemon's server). */
  routes(): ChannelRoutes {
    const events = this.connection.routes();
    return events ? { platform: events } : {};
  }

  private target(chatId: string): SlackTarget {
    const t = parseSlackChatId(chatId);
    if (!t) throw new DeliveryError(`not a Slack chat id: ${chatId}`, { permanent: true });
    return t;
  }

  private enqueue(event: unknown): Promise<void> {
    const channel = (event as { channel?: unknown })?.channel;
    const key = typeof channel === 'string' ? channel : '';
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.receive(event));
    this.chains.set(key, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    return next;
  }

  private async receive(event: unknown): Promise<void> {
    this.lastEventAt = Date.now();
    const identity = this.connection.identity;
    const sink = this.sink;
    if (!identity || !sink) throw new Error('Slack event before the channel was ready');
    const e = event as { channel?: string; ts?: string };
    const key = `${e.channel}:${e.ts}`;
    if (this.stored.has(key)) return;
    const mapped = await toInbound(event, {
      identity,
      assistantName: this.settings.assistantName,
      maxBytes: this.settings.maxAttachmentBytes,
      lookups: this.lookups,
    });
    if (mapped.kind === 'ignored') {
      this.log.debug({ reason: mapped.reason }, 'Slack event ignored');
      return;
    }
    try {
      await sink.receive(mapped.inbound);
    } catch (err) {
      this.connection.fail(err, 'a Slack message could not be stored');
      throw err;
    }
    this.stored.set(key, true);
  }
}
