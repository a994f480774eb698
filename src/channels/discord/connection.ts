import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Options,
  Partials,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Logger } from 'pino';
import { Reconnector, type LinkState } from '../kit/reconnect.js';
import type { BotIdentity } from './inbound.js';

/**
 * The gateway connection's lifecycle: the link (a login with a fresh client, kept by a
 * Reconnector with exponential backoff), plus `resuming` while discord.js resumes a dropped
 * socket by itself.
 */
export type ConnectionState = LinkState | { name: 'resuming'; attempt: number };

export interface GatewayOptions {
  token: string;
  /** REST root without the version (`https://discord.com/api` when null). */
  apiBase: string | null;
  log: Logger;
  /** First delay before a fresh login; doubles per failure up to `maxReconnectDelayMs`. */
  reconnectDelayMs: number;
  maxReconnectDelayMs?: number;
  /** How long `start` waits for the first READY before returning (connecting goes on). */
  readyTimeoutMs?: number;
  /** Every message the current client sees, with the bot's identity. */
  onMessage(message: Message, bot: BotIdentity): void;
  /** A fresh gateway session began (first login or re-identify; not a resume). */
  onSession?(client: Client, bot: BotIdentity): void;
  /** An interaction (a button pressed under one of our messages); answers it itself. */
  onInteraction?(interaction: Interaction): void;
}

/** Close codes after which logging in again cannot help: the operator must fix something. */
const FATAL_CLOSE: Record<number, string> = {
  4004: 'Discord rejected the bot token (gateway close 4004); check DISCORD_BOT_TOKEN',
  4013: 'Discord refused the gateway intents as invalid (close 4013)',
  4014: 'Discord refused a privileged intent (close 4014): enable "Message Content Intent" for the bot in the Developer Portal',
};

/**
 * One bot login at a time. Handlers are bound to the client they were attached to and ignore
 * events unless that client is the current one, and a replaced client loses all its listeners:
 * however often the connection is rebuilt, each gateway event is handled once. A login attempt
 * succeeds at the first READY; it fails when the login is refused or the gateway closes first.
 */
export class GatewayConnection {
  private client: Client | undefined;
  /** The login attempt in flight: settled by the gateway's events. */
  private opening: { resolve(): void; reject(err: unknown): void } | undefined;
  private resuming: { attempt: number } | null = null;
  private bot: BotIdentity | undefined;
  private readonly link: Reconnector;
  lastError: string | null = null;
  lastEventAt: number | null = null;

  constructor(private readonly opts: GatewayOptions) {
    this.link = new Reconnector({
      backoff: {
        firstMs: opts.reconnectDelayMs,
        maxMs: opts.maxReconnectDelayMs ?? 300_000,
        jitter: 0.2,
      },
      open: () => this.open(),
      onState: (s) => {
        if (s.name === 'reconnecting')
          opts.log.info(
            { attempt: s.attempt, delayMs: s.retryAt - Date.now() },
            'Discord: logging in again later',
          );
      },
    });
  }

  get state(): ConnectionState {
    return this.resuming && this.link.connected
      ? { name: 'resuming', attempt: this.resuming.attempt }
      : this.link.state;
  }

  get connected(): boolean {
    return this.state.name === 'connected';
  }

  /**
   * Starts connecting. Resolves once connected, stopped for good, after a first failure (retries
   * go on in the background) or after the ready timeout: a daemon never waits long on Discord.
   */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.readyTimeoutMs ?? 15_000);
      timer.unref();
    });
    await Promise.race([this.link.start(), timeout]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.link.stop();
    this.opening = undefined;
    await this.drop();
  }

  /** Records an error for health and the log; the token never appears in either. */
  private noteError(what: string, err: unknown): void {
    const text = (err instanceof Error ? err.message : String(err)).replaceAll(
      this.opts.token,
      '[redacted]',
    );
    this.lastError = `${what}: ${text}`;
    this.opts.log.warn({ err: text }, what);
  }

  /** One login with a fresh client; settles at its first READY, refusal or close. */
  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = new Client({
        intents: [
          GatewayIntentBits.Guilds,
          GatewayIntentBits.GuildMessages,
          GatewayIntentBits.DirectMessages,
          GatewayIntentBits.MessageContent,
        ],
        // DM channels are not cached before their first message; partials let those through.
        partials: [Partials.Channel],
        rest: this.opts.apiBase ? { api: this.opts.apiBase } : {},
        makeCache: Options.cacheWithLimits({
          ...Options.DefaultMakeCacheSettings,
          MessageManager: 50,
        }),
      });
      this.client = client;
      this.resuming = null;
      this.opening = { resolve, reject };
      this.attach(client);
      client.login(this.opts.token).catch((err: unknown) => {
        if (this.client !== client || this.link.stopped) return;
        const code = (err as { code?: unknown }).code;
        if (code === 'TokenInvalid' || (err instanceof DiscordAPIError && err.status === 401))
          this.stopFor('Discord rejected the bot token (401); check DISCORD_BOT_TOKEN');
        else this.failed('login failed', err);
      });
    });
  }

  private attach(client: Client): void {
    const mine = () => this.client === client && !this.link.stopped;
    const up = () => {
      if (!mine() || !client.user) return;
      this.bot = { id: client.user.id, name: client.user.username };
      this.lastEventAt = Date.now();
      if (!this.connected) this.opts.log.info('Discord gateway connected');
      this.resuming = null;
      const opening = this.opening;
      this.opening = undefined;
      opening?.resolve();
    };
    client.on(Events.ClientReady, up);
    client.on(Events.ShardResume, up);
    client.on(Events.ShardReady, () => {
      up();
      if (mine() && this.bot) this.opts.onSession?.(client, this.bot);
    });
    client.on(Events.ShardReconnecting, () => {
      if (!mine() || this.opening) return;
      const attempt = (this.resuming?.attempt ?? 0) + 1;
      this.opts.log.info({ attempt }, 'Discord gateway dropped; discord.js reconnects');
      this.resuming = { attempt };
    });
    client.on(Events.ShardDisconnect, (ev: { code: number }) => {
      if (!mine()) return;
      const fatal = FATAL_CLOSE[ev.code];
      if (fatal) this.stopFor(fatal);
      else this.failed('gateway closed', new Error(`close code ${ev.code}`));
    });
    client.on(Events.ShardError, (err: Error) => mine() && this.noteError('gateway error', err));
    client.on(Events.Error, (err: Error) => mine() && this.noteError('client error', err));
    client.on(Events.InteractionCreate, (interaction: Interaction) => {
      if (!mine()) return;
      this.lastEventAt = Date.now();
      this.opts.onInteraction?.(interaction);
    });
    client.on(Events.MessageCreate, (message: Message) => {
      if (!mine() || !this.bot) return;
      this.lastEventAt = Date.now();
      this.opts.onMessage(message, this.bot);
    });
  }

  /** A failure nothing but the operator can fix: no more logins. */
  private stopFor(reason: string): void {
    this.lastError = reason;
    this.opts.log.error(reason);
    this.link.stop(reason);
    const opening = this.opening;
    this.opening = undefined;
    opening?.reject(new Error(reason));
    void this.drop();
  }

  /** Drops the current client; the link logs in with a fresh one after the backoff delay. */
  private failed(what: string, err: unknown): void {
    this.noteError(what, err);
    void this.drop();
    const opening = this.opening;
    this.opening = undefined;
    if (opening) opening.reject(err);
    else this.link.lost(err);
  }

  /** Forgets the current client: no listener of it runs again. */
  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on(Events.Error, () => undefined); // an error while tearing down is not news
    await client.destroy().catch((err: unknown) => this.noteError('client destroy failed', err));
  }
}
