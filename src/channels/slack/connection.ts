import type { Server } from 'node:http';
import {
  App,
  HTTPReceiver,
  SocketModeReceiver,
  type ReceiverEvent,
  type webApi,
} from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackIdentity } from './inbound.js';
import { describeError, slackLogger } from './log.js';

/** The link to Slack: `reconnecting` waits on a timer before the next `connecting`. */
export type ConnectionState =
  | { name: 'idle' }
  | { name: 'connecting'; failures: number }
  | { name: 'connected'; since: number }
  | { name: 'reconnecting'; failures: number; timer: NodeJS.Timeout }
  | { name: 'stopped' };

export interface SlackConnectionOptions {
  mode: 'socket' | 'http';
  botToken: string;
  appToken?: string;
  signingSecret?: string;
  apiUrl: string;
  /** http mode: the loopback port of `POST /slack/events` (0: any free port). */
  port: number;
  reconnectDelayMs: number;
  /** The Web API client for our own calls (auth.test). */
  api: webApi.WebClient;
  log: Logger;
  /**
   * Every `message` and `app_mention` event. Slack is acknowledged only after it resolves (the
   * message is stored); a rejection leaves the event unacknowledged, so Slack delivers it again.
   */
  onEvent(event: unknown): Promise<void>;
}

const MAX_DELAY_MS = 60_000;
const CONNECT_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 2_000;
export const EVENTS_PATH = '/slack/events';

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
 * the app-level token, or the HTTP Events API on a loopback port with the signing secret checked
 * by Bolt (a bad signature gets 401). The library's own reconnect is off: this class reconnects
 * with exponential backoff, so a reconnect reuses the same app and never adds a handler.
 */
export class SlackConnection {
  state: ConnectionState = { name: 'idle' };
  identity: SlackIdentity | undefined;
  lastError: string | null = null;
  private readonly app: App;
  private readonly socket?: SocketModeReceiver;
  private readonly http?: HTTPReceiver;
  private server?: Server;

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
      this.http = new HTTPReceiver({
        signingSecret: opts.signingSecret ?? '',
        endpoints: EVENTS_PATH,
        logger,
        processBeforeResponse: true,
      });
    }
    const receiver = this.socket ?? this.http!;
    // HTTP mode must not defer: Bolt's early ack only stops its 3 s timer there.
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
  }

  connected(): boolean {
    return this.state.name === 'connected';
  }

  /** The HTTP receiver's port once listening (http mode). */
  httpPort(): number | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : undefined;
  }

  /** Makes the first attempt and resolves after it; a failure schedules retries, never throws. */
  async start(): Promise<void> {
    if (this.state.name !== 'idle') return;
    await this.attempt(0);
  }

  async stop(): Promise<void> {
    const prev = this.state;
    this.state = { name: 'stopped' };
    if (prev.name === 'reconnecting') clearTimeout(prev.timer);
    await this.closeTransport();
  }

  /** Whether stop() was called (state can change while an attempt awaits). */
  private isStopped(): boolean {
    return this.state.name === 'stopped';
  }

  /** Records a failure without secrets in it. */
  fail(err: unknown, message: string): void {
    this.lastError = describeError(err);
    this.opts.log.warn({ err: this.lastError }, message);
  }

  private async attempt(failures: number): Promise<void> {
    this.state = { name: 'connecting', failures };
    try {
      this.identity ??= await this.authTest();
      if (this.socket) {
        await withTimeout(this.socket.start(), CONNECT_TIMEOUT_MS, 'no hello from Slack in time');
      } else if (!this.server) {
        this.server = (await this.http!.start({
          port: this.opts.port,
          host: '127.0.0.1',
        })) as Server;
      }
    } catch (err) {
      if (this.isStopped()) return;
      this.fail(
        err ?? new Error('connection closed before Slack said hello'),
        'Slack connection failed',
      );
      if (this.socket) void this.closeTransport();
      this.schedule(failures + 1);
      return;
    }
    if (this.isStopped()) {
      await this.closeTransport();
      return;
    }
    this.state = { name: 'connected', since: Date.now() };
    this.opts.log.info(
      { mode: this.opts.mode, port: this.httpPort(), bot: this.identity?.botUserId },
      'Slack connected',
    );
  }

  /** The socket closed under us (Slack recycles connections; networks fail): reconnect. */
  private dropped(): void {
    if (this.state.name !== 'connected') return;
    this.opts.log.info('Slack socket closed; reconnecting');
    this.schedule(0);
  }

  private schedule(failures: number): void {
    if (this.state.name === 'stopped') return;
    const base = Math.min(
      this.opts.reconnectDelayMs * 2 ** Math.max(0, failures - 1),
      MAX_DELAY_MS,
    );
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    const timer = setTimeout(() => void this.attempt(failures), delay);
    timer.unref();
    this.state = { name: 'reconnecting', failures, timer };
  }

  private async authTest(): Promise<SlackIdentity> {
    const res = await this.opts.api.auth.test();
    if (!res.user_id) throw new Error('auth.test returned no bot user id');
    return { botUserId: res.user_id, botId: res.bot_id ?? null };
  }

  private async closeTransport(): Promise<void> {
    if (this.socket) {
      await withTimeout(this.socket.client.disconnect(), CLOSE_TIMEOUT_MS, 'close').catch(
        () => undefined,
      );
    } else if (this.server) {
      const server = this.server;
      this.server = undefined;
      server.closeIdleConnections();
      await this.http!.stop().catch(() => undefined);
    }
  }
}
