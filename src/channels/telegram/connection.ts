import { GrammyError, type Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../clock.js';
import { backoffDelay, Reconnector, type Backoff, type LinkState } from '../kit/reconnect.js';

/** What a source of updates (long polling or webhook) needs from the adapter. */
export interface SourceHooks {
  /** getMe (once) plus the mode's handshake (deleteWebhook or setWebhook). */
  prepare(signal: AbortSignal): Promise<void>;
  /** Handles one update; resolves once it is stored. A rejection means "not stored, send again". */
  handle(update: Update): Promise<void>;
  onState(state: LinkState): void;
  /** An update could not be stored (the connection itself is fine). */
  onHandleError(message: string): void;
  /** A redacted one-line description of an error. */
  describe(err: unknown): string;
}

/** The update kinds the adapter asks for (edits are received only to be ignored by rule). */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query'] as const;

/** 0.5 s doubling to 30 s, ±20 % jitter. */
export const TELEGRAM_BACKOFF: Backoff = { firstMs: 500, maxMs: 30_000, jitter: 0.2 };

/** A revoked or wrong token cannot get better by itself: try again every 5 minutes only. */
const delayFor = (err: unknown): number | undefined =>
  err instanceof GrammyError && err.error_code === 401 ? 300_000 : undefined;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** grammY types its signals with the abort-controller polyfill; a native signal works the same. */
type ApiSignal = NonNullable<Parameters<Api['getMe']>[0]>;
export const apiSignal = (signal: AbortSignal): ApiSignal => signal as unknown as ApiSignal;

/** A source of updates: long polling, or a webhook registered with Telegram. */
export interface UpdateSource {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Long polling with store-before-ack. The link (the handshake) is kept by a Reconnector: one
 * poll loop at a time, since a loop only ever ends by reporting its link lost (or by `stop`), and
 * the next loop starts after the next handshake. Telegram forgets updates only when a later
 * getUpdates passes `offset` beyond them; the offset advances past an update only after `handle`
 * resolved, so an update that failed to store is fetched again (after a backoff). `stop` aborts
 * the pending request and confirms the offset.
 */
export class Poller implements UpdateSource {
  private controller?: AbortController;
  private loop?: Promise<void>;
  private offset = 0;
  private readonly link: Reconnector;

  constructor(
    private readonly api: Api,
    private readonly hooks: SourceHooks,
    private readonly log: Logger,
    private readonly timeoutSeconds = 30,
    clock: Clock = systemClock,
  ) {
    this.link = new Reconnector({
      backoff: TELEGRAM_BACKOFF,
      clock,
      delayFor,
      open: () => this.open(),
      onState: (s) => {
        if (s.name === 'reconnecting') {
          const retryInMs = s.retryAt - clock.now();
          this.log.warn(
            { err: hooks.describe(s.error), attempt: s.attempt, retryInMs },
            'Telegram connection lost; reconnecting',
          );
        }
        hooks.onState(s);
      },
    });
  }

  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    void this.link.start();
  }

  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    this.controller = undefined;
    controller.abort();
    this.link.stop();
    await this.loop;
    this.loop = undefined;
    if (this.offset > 0) {
      // Tell Telegram what was stored, so a restart does not fetch it again.
      const confirm = this.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 });
      const bound = new Promise((r) => setTimeout(r, 2000).unref());
      await Promise.race([confirm.catch(() => undefined), bound]);
    }
  }

  /** The handshake; then the poll loop runs until the link is lost or stopped. */
  private async open(): Promise<void> {
    const signal = this.controller?.signal;
    if (!signal || signal.aborted) throw new Error('stopped');
    await this.hooks.prepare(signal);
    this.loop = this.poll(signal);
  }

  private async poll(signal: AbortSignal): Promise<void> {
    let handleFailures = 0;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await this.api.getUpdates(
          {
            offset: this.offset,
            timeout: this.timeoutSeconds,
            allowed_updates: [...ALLOWED_UPDATES],
          },
          apiSignal(signal),
        );
      } catch (err) {
        if (!signal.aborted) this.link.lost(err);
        return;
      }
      let stored = true;
      for (const update of updates) {
        if (signal.aborted) return;
        try {
          await this.hooks.handle(update);
        } catch (err) {
          stored = false;
          const message = this.hooks.describe(err);
          const retryInMs = backoffDelay(TELEGRAM_BACKOFF, ++handleFailures);
          this.log.error(
            { err: message, retryInMs },
            'update not stored; it will be fetched again',
          );
          this.hooks.onHandleError(message);
          await sleep(retryInMs, signal);
          break;
        }
        this.offset = update.update_id + 1;
      }
      if (stored) handleFailures = 0;
    }
  }
}

/**
 * Webhook mode's link: registers the webhook with Telegram (getMe + setWebhook), retrying with
 * the backoff until it holds. The updates themselves arrive on the daemon's HTTP server (see
 * webhook.ts); the webhook stays registered on stop (Telegram queues updates until the next
 * start).
 */
export class WebhookRegistration implements UpdateSource {
  private controller?: AbortController;
  private readonly link: Reconnector;

  constructor(
    private readonly hooks: Pick<SourceHooks, 'prepare' | 'onState' | 'describe'>,
    private readonly log: Logger,
    clock: Clock = systemClock,
  ) {
    this.link = new Reconnector({
      backoff: TELEGRAM_BACKOFF,
      clock,
      delayFor,
      open: async () => {
        const signal = this.controller?.signal;
        if (!signal || signal.aborted) throw new Error('stopped');
        await this.hooks.prepare(signal);
      },
      onState: (s) => {
        if (s.name === 'connected') this.log.info('Telegram webhook registered');
        if (s.name === 'reconnecting')
          this.log.warn(
            {
              err: hooks.describe(s.error),
              attempt: s.attempt,
              retryInMs: s.retryAt - clock.now(),
            },
            'Telegram webhook setup failed; retrying',
          );
        hooks.onState(s);
      },
    });
  }

  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    void this.link.start();
  }

  async stop(): Promise<void> {
    if (!this.controller) return;
    this.controller.abort();
    this.controller = undefined;
    this.link.stop();
  }
}
