import { Bot } from 'grammy';
import type { Hono } from 'hono';
import type { Message } from 'grammy/types';
import type { Logger } from 'pino';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type ChannelRoutes,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import type { LinkState } from '../kit/reconnect.js';
import { SentKeys } from '../kit/sent-keys.js';
import { TypingKeeper } from '../kit/typing.js';
import { RateLimiter } from '../rate-limiter.js';
import {
  ALLOWED_UPDATES,
  apiSignal,
  Poller,
  WebhookRegistration,
  type SourceHooks,
  type UpdateSource,
} from './connection.js';
import { describeError, toDeliveryError } from './errors.js';
import { downloadFiles } from './files.js';
import { mapMessage, parseChatId, type BotIdentity } from './inbound.js';
import { sendFile, sendText } from './outbound.js';
import { webhookRoutes } from './webhook.js';

/** Webhook mode: what Telegram is told at setWebhook. */
export interface WebhookSettings {
  /**
   * The public HTTPS URL Telegram posts to; a reverse proxy forwards it to the daemon's
   * `/channels/telegram/webhook`.
   */
  url: string;
  /** Telegram echoes it in X-Telegram-Bot-Api-Secret-Token; other requests get 401. */
  secretToken: string;
}

export interface TelegramSettings {
  /** The bot token from @BotFather. A secret: never logged, redacted from every error. */
  token: string;
  /** Bot API root without a trailing slash; null for https://api.telegram.org. */
  apiRoot: string | null;
  mode: 'polling' | 'webhook';
  /** Required in webhook mode. */
  webhook?: WebhookSettings;
  perChatIntervalMs: number;
  globalPerMinute: number;
  /** Largest inbound file downloaded (config `attachments.maxBytes`). */
  attachmentMaxBytes: number;
  /** Long-poll wait per getUpdates, in seconds (default 30). */
  pollTimeoutSeconds?: number;
  /** How often "typing…" is re-sent while on (default 4 s; Telegram shows it ~5 s). */
  typingIntervalMs?: number;
  /** How long `connect` waits for the first handshake before returning anyway (default 5 s). */
  connectWaitMs?: number;
}

/** Progress of one outbox piece whose send failed part-way (text sent, a file not yet). */
interface SendProgress {
  textId?: number;
  fileIds: number[];
}

/**
 * The Telegram channel: chats `tg:<chat id>` (groups negative) and `tg:<chat id>/<topic id>` for
 * forum topics. Inbound: long polling (or a webhook route on the daemon's server), each update
 * stored before it is acknowledged; edits are ignored by rule (the stored original stands).
 * The link is kept by the kit's Reconnector (connection.ts). Outbound: Markdown as
 * Telegram HTML with a plain-text retry, files as photo/document, per-chat and global spacing
 * with 429 honoured. Telegram cannot look a sent message up, so there is no `findSent`: a crash
 * between Telegram accepting a message and the outbox recording it re-sends it once on restart
 * (at-least-once). Within a process, a retried piece never re-posts what already went out.
 */
export class TelegramChannel implements Channel {
  readonly name = 'tg';
  readonly limits = { maxMessageLength: 4096 };
  private readonly bot: Bot;
  private readonly source: UpdateSource;
  private readonly webhook?: Hono;
  private readonly limiter: RateLimiter;
  private readonly typing: TypingKeeper;
  private sink?: InboundSink;
  private me?: BotIdentity;
  private state: LinkState = { name: 'idle' };
  private lastError: string | null = null;
  private lastEventAt: number | null = null;
  private readonly progress = new SentKeys<SendProgress>();
  private readonly sentKeys = new SentKeys();
  private firstOutcome?: () => void;

  constructor(
    private readonly settings: TelegramSettings,
    private readonly log: Logger,
  ) {
    const apiRoot = settings.apiRoot?.replace(/\/+$/, '');
    // 120 s per API call (grammY's default is 500 s): a hung send must not stall the outbox long.
    this.bot = new Bot(settings.token, {
      client: { timeoutSeconds: 120, ...(apiRoot ? { apiRoot } : {}) },
    });
    // Registered once, here: reconnects restart the transport, never the handlers.
    this.bot.on('message', (ctx) => this.onMessage(ctx.message));
    this.bot.on('edited_message', () => {
      this.lastEventAt = Date.now();
    });
    this.limiter = new RateLimiter({
      perChatIntervalMs: settings.perChatIntervalMs,
      globalPerMinute: settings.globalPerMinute,
    });
    this.typing = new TypingKeeper({
      send: (chat) => this.sendTyping(chat),
      everyMs: settings.typingIntervalMs ?? 4000,
    });
    const hooks: SourceHooks = {
      prepare: (signal) => this.prepare(signal),
      handle: (update) => this.bot.handleUpdate(update),
      onState: (s) => this.setState(s),
      onHandleError: (message) => {
        this.lastError = message;
      },
      describe: (err) => describeError(err, settings.token),
    };
    if (settings.mode === 'webhook') {
      if (!settings.webhook) throw new Error('Telegram webhook mode needs webhook settings');
      this.source = new WebhookRegistration(hooks, log);
      this.webhook = webhookRoutes(this.bot, settings.webhook.secretToken, hooks, log);
    } else {
      this.source = new Poller(this.bot.api, hooks, log, settings.pollTimeoutSeconds);
    }
  }

  /** The connection state (health reports `connected` for `connected` only). */
  get connection(): LinkState {
    return this.state;
  }

  /** Webhook mode: the route Telegram posts to (mounted at `/channels/telegram`). */
  routes(): ChannelRoutes {
    return this.webhook ? { platform: this.webhook } : {};
  }

  owns(chatId: string): boolean {
    return chatId.startsWith('tg:');
  }

  /**
   * Starts receiving. Waits for the first handshake (getMe + webhook set-up) up to
   * `connectWaitMs`, but never fails: an unreachable Telegram is retried in the background and
   * shows in `health()`, so the daemon starts anyway.
   */
  async connect(sink: InboundSink): Promise<void> {
    if (this.state.name !== 'idle' && this.state.name !== 'stopped') return;
    this.sink = sink;
    let timer: NodeJS.Timeout | undefined;
    const first = new Promise<void>((resolve) => {
      this.firstOutcome = resolve;
      timer = setTimeout(resolve, this.settings.connectWaitMs ?? 5000);
    });
    this.source.start();
    await first;
    clearTimeout(timer);
  }

  async disconnect(): Promise<void> {
    this.typing.stopAll();
    await this.source.stop();
  }

  async send(chatId: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    const known = this.sentKeys.get(opts.idemKey);
    if (known) return { platformId: known };
    const target = parseChatId(chatId);
    if (!target) throw new DeliveryError(`not a Telegram chat id: ${chatId}`, { permanent: true });
    const files = opts.files ?? [];
    if (!text.trim() && !files.length)
      throw new DeliveryError('nothing to send (empty text, no files)', { permanent: true });
    const progress = this.progress.get(opts.idemKey) ?? { fileIds: [] };
    this.progress.remember(opts.idemKey, progress);
    try {
      if (text.trim() && progress.textId === undefined) {
        await this.limiter.acquire(chatId);
        // Quotes the message answered only where the group asks for it (threadReplies).
        const quote = opts.thread ? opts.replyTo : null;
        progress.textId = await sendText(this.bot.api, this.log, target, text, quote);
      }
      for (let i = progress.fileIds.length; i < files.length; i++) {
        await this.limiter.acquire(chatId);
        progress.fileIds.push(await sendFile(this.bot.api, target, files[i]!));
      }
    } catch (err) {
      const e = toDeliveryError(err, this.settings.token);
      if (e.opts.retryAfterMs !== undefined) this.limiter.pause(e.opts.retryAfterMs, chatId);
      if (e.opts.permanent) this.progress.forget(opts.idemKey);
      this.lastError = e.message;
      throw e;
    }
    this.progress.forget(opts.idemKey);
    const platformId = String(progress.textId ?? progress.fileIds[0]);
    this.sentKeys.remember(opts.idemKey, platformId);
    this.lastEventAt = Date.now();
    return { platformId };
  }

  async setTyping(chatId: string, on: boolean): Promise<void> {
    if (parseChatId(chatId)) this.typing.set(chatId, on);
  }

  /** Whether "typing…" is being kept up in `chatId`. */
  isTyping(chatId: string): boolean {
    return this.typing.isOn(chatId);
  }

  health(): ChannelHealth {
    return {
      connected: this.state.name === 'connected',
      lastError: this.lastError,
      lastEventAt: this.lastEventAt,
    };
  }

  private setState(state: LinkState): void {
    this.state = state;
    if (state.name === 'reconnecting')
      this.lastError = describeError(state.error, this.settings.token);
    if (state.name === 'connected' || state.name === 'reconnecting') this.firstOutcome?.();
  }

  /** The handshake: who am I (once), then the mode's webhook state. */
  private async prepare(signal: AbortSignal): Promise<void> {
    if (!this.me) {
      const me = await this.bot.api.getMe(apiSignal(signal));
      this.bot.botInfo = me;
      this.me = { id: me.id, username: me.username };
      this.log.info(
        { bot: `@${me.username}`, readsAllGroupMessages: me.can_read_all_group_messages },
        'Telegram bot identified',
      );
    }
    const hook = this.settings.webhook;
    if (this.settings.mode === 'webhook' && hook) {
      await this.bot.api.setWebhook(
        hook.url,
        { secret_token: hook.secretToken, allowed_updates: [...ALLOWED_UPDATES] },
        apiSignal(signal),
      );
    } else {
      // Long polling is refused while a webhook is set; pending updates are kept.
      await this.bot.api.deleteWebhook({ drop_pending_updates: false }, apiSignal(signal));
    }
  }

  /** One inbound message: map, download files (capped), store. Throws only when not stored. */
  private async onMessage(msg: Message): Promise<void> {
    this.lastEventAt = Date.now();
    const me = this.me;
    const sink = this.sink;
    if (!me || !sink) throw new Error('Telegram update before the channel was ready');
    let mapped: ReturnType<typeof mapMessage>;
    try {
      mapped = mapMessage(msg, me);
    } catch (err) {
      // A message we cannot read would block the stream forever: log it and let it go.
      this.log.error(
        { err: describeError(err, this.settings.token) },
        'unreadable Telegram message skipped',
      );
      return;
    }
    if (mapped.kind === 'skip') {
      if (msg.migrate_to_chat_id) {
        this.log.warn(
          { from: `tg:${msg.chat.id}`, to: `tg:${msg.migrate_to_chat_id}` },
          'Telegram group upgraded to a supergroup: bind the new chat id to its group',
        );
      }
      return;
    }
    const { attachments, notes } = mapped.files.length
      ? await downloadFiles(mapped.files, {
          api: this.bot.api,
          fileUrl: (path) => `${this.fileRoot()}/file/bot${this.settings.token}/${path}`,
          maxBytes: this.settings.attachmentMaxBytes,
          token: this.settings.token,
        })
      : { attachments: [], notes: [] };
    await sink.receive({
      ...mapped.inbound,
      text: [mapped.inbound.text, ...notes].filter(Boolean).join('\n'),
      attachments: attachments.length ? attachments : undefined,
    });
  }

  private fileRoot(): string {
    return this.settings.apiRoot?.replace(/\/+$/, '') ?? 'https://api.telegram.org';
  }

  private async sendTyping(chatId: string): Promise<void> {
    const target = parseChatId(chatId);
    if (!target || this.state.name !== 'connected') return;
    await this.bot.api.sendChatAction(target.chatId, 'typing', {
      message_thread_id: target.threadId,
    });
  }
}
