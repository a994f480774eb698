import { App, SocketModeReceiver, type ReceiverEvent, type webApi } from '@slack/bolt';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { Reconnector, type LinkState } from '../kit/reconnect.js';
import { DaemonReceiver } from './http-receiver.js';
import type { SlackIdentity } from './inbound.js';
import { describeError, slackLogger } from './log.js';

export interface SlackConnectionOptions {
  mode: 'socket' | 'http';
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  apiUrl: string;
  /** First reconnect delay; doubles per failed attempt up to 60 s. */
  reconnectDelayMs: number;
  /** The Web API client for our own calls (auth.test). */
  api: webApi.WebClient;
  log: Logger;
  /**
   * Every `message` and `app_mention` event. Slack is acknowledged only after it resolves (the
   * message is stored); a rejection leaves the event unacknowledged, so Slack delivers it again.
   */
  onEvent(event: unknown): Promise<void>;
  /**
   * A `block_actions` payload (a button pressed), called after Slack was acknowledged. Must not
   * reject for a refused press; it answers the presser itself.
   */
  onAction(body: unknown): Promise<void>;
}

const MAX_DELAY_MS = 60_000;
const CONNECT_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Bolt acknowledges an Events API envelope before its listeners run. Over Socket Mode this app
 * holds the acknowledgement back until the listeners are done (the message is stored): the
 * listener's promise is the store-before-ack barrier. (HTTP mode gets the same from Bolt's
 * `processBeforeResponse`.)
 */
class StoreFirstApp extends App {
  override async processEvent(event: ReceiverEvent): Promise<void> {
    let response: unknown;
    await super.processEvent({
      ...event,
      ack: async (body?: unknown) => {
        response = body;
      },
    });
    await event.ack(response);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One Bolt app (handlers registered once, at construction) and its receiver: Socket Mode over
 * the app-level token, or the HTTP Events API as a route of the daemon's server with the signing
 * secret checked (a bad signature gets 401). The library's own reconnect is off: the link is
 * kept by a Reconnector (exponential backoff), so a reconnect reuses the same app and never adds
 * a handler. In http mode the link is the bot token's `auth.test`: there is no socket to drop.
 */
export class SlackConnection {
  identity: SlackIdentity | undefined;
  lastError: string | null = null;
  private readonly app: App;
  private readonly socket?: SocketModeReceiver;
  private readonly http?: DaemonReceiver;
  private readonly link: Reconnector;

  constructor(private readonly opts: SlackConnectionOptions) {
    const logger = slackLogger(opts.log);
    const clientOptions = { slackApiUrl: opts.apiUrl, retryConfig: { retries: 0 }, logger };
    if (opts.mode === 'socket') {
      this.socket = new SocketModeReceiver({
        appToken: opts.appToken ?? '',
        logger,
        autoReconnectEnabled: false,
        installerOptions: { clientOptions },
        processEventErrorHandler: async ({ error }) => {
          this.fail(error, 'a Slack event could not be stored; left unacknowledged');
          return false;
        },
      });
      this.socket.client.on('disconnected', () => this.dropped());
    } else {
      this.http = new DaemonReceiver(opts.signingSecret ?? '', (err) =>
        this.fail(err, 'a Slack event could not be stored; answered 500 for Slack to send again'),
      );
    }
    const receiver = this.socket ?? this.http!;
    // HTTP mode must not defer: the receiver answers only after processEvent anyway.
    const AppClass = this.socket ? StoreFirstApp : App;
    this.app = new AppClass({
      receiver,
      logger,
      clientOptions,
      ignoreSelf: false,
      convoStore: false,
      authorize: async () => ({
        botToken: opts.botToken,
        botId: this.identity?.botId ?? undefined,
        botUserId: this.identity?.botUserId,
      }),
    });
    this.app.error(async (error) => {
      throw error; // processEvent rejects: the receiver leaves the event unacknowledged
    });
    this.app.event('message', async ({ event }) => opts.onEvent(event));
    this.app.event('app_mention', async ({ event }) => opts.onEvent(event));
    // Acknowledged at once, not after the press is handled (Slack shows an error after 3 s;
    // over Socket Mode the ack waits for this listener): the answer is an ephemeral message.
    this.app.action({ type: 'block_actions' }, async ({ ack, body }) => {
      await ack();
      void opts.onAction(body);
    });
    this.link = new Reconnector({
      backoff: { firstMs: opts.reconnectDelayMs, maxMs: MAX_DELAY_MS, jitter: 0.2 },
      open: () => this.open(),
    });
  }

  get state(): LinkState {
    return this.link.state;
  }

  connected(): boolean {
    return this.link.connected;
  }

  /** http mode: the events route (mounted at `/channels/slack`). */
  routes(): Hono | undefined {
    return this.http?.routes();
  }

  /** Makes the first attempt and resolves after it; a failure schedules retries, never throws. */
  async start(): Promise<void> {
    if (this.link.state.name !== 'idle') return;
    await this.link.start();
  }

  async stop(): Promise<void> {
    this.link.stop();
    await this.closeTransport();
  }

  /** Records a failure without secrets in it. */
  fail(err: unknown, message: string): void {
    this.lastError = describeError(err);
    this.opts.log.warn({ err: this.lastError }, message);
  }

  /** One attempt: who am I (once), then the socket (Socket Mode). Rejects when it failed. */
  private async open(): Promise<void> {
    try {
      this.identity ??= await this.authTest();
      if (this.socket)
        await withTimeout(this.socket.start(), CONNECT_TIMEOUT_MS, 'no hello from Slack in time');
    } catch (err) {
      if (this.link.stopped) throw err;
      this.fail(
        err ?? new Error('connection closed before Slack said hello'),
        'Slack connection failed',
      );
      if (this.socket) void this.closeTransport();
      throw err;
    }
    if (this.link.stopped) {
      await this.closeTransport();
      return;
    }
    this.opts.log.info({ mode: this.opts.mode, bot: this.identity?.botUserId }, 'Slack connected');
  }

  /** The socket closed under us (Slack recycles connections; networks fail): reconnect. */
  private dropped(): void {
    if (!this.link.connected) return;
    this.opts.log.info('Slack socket closed; reconnecting');
    this.link.lost(new Error('Slack socket closed'));
  }

  private async authTest(): Promise<SlackIdentity> {
    const res = await this.opts.api.auth.test();
    if (!res.user_id) throw new Error('auth.test returned no bot user id');
    return { botUserId: res.user_id, botId: res.bot_id ?? null };
  }

  private async closeTransport(): Promise<void> {
    if (!this.socket) return;
    await withTimeout(this.socket.client.disconnect(), CLOSE_TIMEOUT_MS, 'close').catch(
      () => undefined,
    );
  }
}
