import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Options,
  Partials,
  type Message,
} from 'discord.js';
import type { Logger } from 'pino';
import type { BotIdentity } from './inbound.js';

/**
 * The gateway connection's lifecycle. `reconnecting` is either discord.js resuming a dropped
 * socket itself (`by: 'library'`) or this class waiting to log in again with a fresh client after
 * the library gave up or a login failed (`by: 'adapter'`, exponential backoff).
 */
export type ConnectionState =
  | { name: 'connecting'; attempt: number }
  | { name: 'connected' }
  | { name: 'reconnecting'; by: 'library' | 'adapter'; attempt: number }
  | { name: 'stopped'; reason: string | null };

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
 * however often the connection is rebuilt, each gateway event is handled once.
 */
export class GatewayConnection {
  private state: ConnectionState = { name: 'stopped', reason: null };
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private waiters: Array<() => void> = [];
  private bot: BotIdentity | undefined;
  lastError: string | null = null;
  lastEventAt: number | null = null;

  constructor(private readonly opts: GatewayOptions) {}

  get connected(): boolean {
    return this.state.name === 'connected';
  }

  /**
   * Starts connecting. Resolves once connected, stopped for good, after a first failure (retries
   * go on in the background) or after the ready timeout: a daemon never waits long on Discord.
   */
  async start(): Promise<void> {
    this.open();
    if (this.state.name !== 'connecting') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.opts.readyTimeoutMs ?? 15_000);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.setState({ name: 'stopped', reason: null });
    if (this.timer) clearTimeout(this.timer);
    await this.drop();
  }

  /** `start` returns at the first outcome: connected, stopped, or a first failure (retrying). */
  private setState(state: ConnectionState): void {
    this.state = state;
    if (state.name !== 'connecting') for (const w of this.waiters.splice(0)) w();
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

  private open(): void {
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
    this.setState({ name: 'connecting', attempt: this.attempt });
    this.attach(client);
    client.login(this.opts.token).catch((err: unknown) => {
      if (this.client !== client || this.state.name === 'stopped') return;
      const code = (err as { code?: unknown }).code;
      if (code === 'TokenInvalid' || (err instanceof DiscordAPIError && err.status === 401))
        this.stopFor('Discord rejected the bot token (401); check DISCORD_BOT_TOKEN');
      else this.retryLater('login failed', err);
    });
  }

  private attach(client: Client): void {
    const mine = () => this.client === client && this.state.name !== 'stopped';
    const up = () => {
      if (!mine() || !client.user) return;
      this.bot = { id: client.user.id, name: client.user.username };
      this.attempt = 0;
      this.lastEventAt = Date.now();
      if (this.state.name !== 'connected') this.opts.log.info('Discord gateway connected');
      this.setState({ name: 'connected' });
    };
    client.on(Events.ClientReady, up);
    client.on(Events.ShardResume, up);
    client.on(Events.ShardReady, () => {
      up();
      if (mine() && this.bot) this.opts.onSession?.(client, this.bot);
    });
    client.on(Events.ShardReconnecting, () => {
      if (!mine()) return;
      const attempt = this.state.name === 'reconnecting' ? this.state.attempt + 1 : 1;
      this.opts.log.info({ attempt }, 'Discord gateway dropped; discord.js reconnects');
      this.setState({ name: 'reconnecting', by: 'library', attempt });
    });
    client.on(Events.ShardDisconnect, (ev: { code: number }) => {
      if (!mine()) return;
      const fatal = FATAL_CLOSE[ev.code];
      if (fatal) this.stopFor(fatal);
      else this.retryLater('gateway closed', new Error(`close code ${ev.code}`));
    });
    client.on(Events.ShardError, (err: Error) => mine() && this.noteError('gateway error', err));
    client.on(Events.Error, (err: Error) => mine() && this.noteError('client error', err));
    client.on(Events.MessageCreate, (message: Message) => {
      if (!mine() || !this.bot) return;
      this.lastEventAt = Date.now();
      this.opts.onMessage(message, this.bot);
    });
  }

  private stopFor(reason: string): void {
    this.lastError = reason;
    this.opts.log.error(reason);
    this.setState({ name: 'stopped', reason });
    void this.drop();
  }

  /** Drops the current client and logs in with a fresh one after the backoff delay. */
  private retryLater(what: string, err: unknown): void {
    this.noteError(what, err);
    void this.drop();
    this.attempt++;
    const max = this.opts.maxReconnectDelayMs ?? 300_000;
    const base = Math.min(this.opts.reconnectDelayMs * 2 ** (this.attempt - 1), max);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.opts.log.info(
      { attempt: this.attempt, delayMs: delay },
      'Discord: logging in again later',
    );
    this.setState({ name: 'reconnecting', by: 'adapter', attempt: this.attempt });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state.name === 'reconnecting') this.open();
    }, delay);
    this.timer.unref();
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
