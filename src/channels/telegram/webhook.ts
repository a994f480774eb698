import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookCallback, type Bot } from 'grammy';
import type { Logger } from 'pino';
import { reconnectDelay, sleep, type SourceHooks } from './polling.js';

export interface WebhookSettings {
  /** The public HTTPS URL registered with setWebhook (a reverse proxy forwards it here). */
  url: string;
  host: string;
  port: number;
  path: string;
  /** Telegram echoes it in X-Telegram-Bot-Api-Secret-Token; other requests get 401. */
  secretToken: string;
}

const MAX_BODY = 1_000_000;

/**
 * Webhook mode: a small HTTP server of its own (not the daemon's API port) that takes Telegram's
 * POSTs and answers only after the update is stored (200), or 500 when storing failed, so
 * Telegram sends it again. `start` listens and registers the webhook, retrying with backoff;
 * the webhook stays registered on stop (Telegram queues updates until the next start).
 */
export class WebhookSource {
  private server?: Server;
  private controller?: AbortController;
  private loop?: Promise<void>;

  constructor(
    private readonly bot: Bot,
    private readonly settings: WebhookSettings,
    private readonly hooks: Pick<SourceHooks, 'prepare' | 'onState' | 'onHandleError' | 'describe'>,
    private readonly log: Logger,
  ) {}

  /** The port actually bound (useful with port 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.run(controller.signal);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.hooks.onState({ name: 'stopped' });
  }

  private async run(signal: AbortSignal): Promise<void> {
    this.hooks.onState({ name: 'connecting' });
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        if (!this.server) this.server = await this.listen();
        await this.hooks.prepare(signal);
        this.hooks.onState({ name: 'connected' });
        this.log.info({ port: this.port, path: this.settings.path }, 'Telegram webhook registered');
        return;
      } catch (err) {
        if (signal.aborted) return;
        const error = this.hooks.describe(err);
        const retryInMs = reconnectDelay(attempt, err);
        this.hooks.onState({ name: 'reconnecting', attempt, error, retryInMs });
        this.log.warn(
          { err: error, attempt, retryInMs },
          'Telegram webhook setup failed; retrying',
        );
        await sleep(retryInMs, signal);
      }
    }
  }

  private listen(): Promise<Server> {
    const { host, port, path, secretToken } = this.settings;
    const callback = webhookCallback(this.bot, 'http', {
      secretToken,
      onTimeout: 'throw',
      timeoutMilliseconds: 50_000,
    });
    const server = createServer((req, res) => {
      const reqPath = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'POST' || reqPath !== path) {
        res.writeHead(404).end();
        return;
      }
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
        res.writeHead(413).end();
        return;
      }
      callback(req, res).catch((err: unknown) => {
        this.hooks.onHandleError(this.hooks.describe(err));
        this.log.error(
          { err: this.hooks.describe(err) },
          'webhook update not stored; Telegram will retry',
        );
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }
}
