import { GrammyError, type Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from 'pino';

/** The connection to Telegram, as the adapter reports it in `health()`. */
export type ConnectionState =
  | { name: 'connecting' }
  | { name: 'connected' }
  | { name: 'reconnecting'; attempt: number; error: string; retryInMs: number }
  | { name: 'stopped' };

/** What a source of updates (long polling or webhook) needs from the adapter. */
export interface SourceHooks {
  /** getMe (once) plus the mode's handshake (deleteWebhook or setWebhook). */
  prepare(signal: AbortSignal): Promise<void>;
  /** Handles one update; resolves once it is stored. A rejection means "not stored, send again". */
  handle(update: Update): Promise<void>;
  onState(state: ConnectionState): void;
  /** An update could not be stored (the connection itself is fine). */
  onHandleError(message: string): void;
  /** A redacted one-line description of an error. */
  describe(err: unknown): string;
}

/** The update kinds the adapter asks for (edits are received only to be ignored by rule). */
export const ALLOWED_UPDATES = ['message', 'edited_message'] as const;

/** Delay before reconnect attempt `attempt` (1-based): 0.5 s doubling to 30 s, ±20 % jitter; 5 min after a 401. */
export function reconnectDelay(attempt: number, err?: unknown): number {
  if (err instanceof GrammyError && err.error_code === 401) return 300_000;
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

class HandleFailure extends Error {}

/**
 * Long polling with store-before-ack. One loop per instance (`start` while running is a no-op,
 * so a reconnect can never add a second consumer). Telegram forgets updates only when a later
 * getUpdates passes `offset` beyond them; the offset advances past an update only after
 * `handle` resolved, so an update that failed to store is fetched again. Network errors and
 * Telegram errors restart the handshake after a backoff; `stop` aborts the pending request and
 * confirms the offset.
 */
export class Poller {
  private controller?: AbortController;
  private loop?: Promise<void>;
  private offset = 0;

  constructor(
    private readonly api: Api,
    private readonly hooks: SourceHooks,
    private readonly log: Logger,
    private readonly timeoutSeconds = 30,
  ) {}

  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.run(controller.signal);
  }

  async stop(): Promise<void> {
    if (!this.loop) return;
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    if (this.offset > 0) {
      // Tell Telegram what was stored, so a restart does not fetch it again.
      const confirm = this.api.getUpdates({ offset: this.offset, limit: 1, timeout: 0 });
      const bound = new Promise((r) => setTimeout(r, 2000).unref());
      await Promise.race([confirm.catch(() => undefined), bound]);
    }
    this.hooks.onState({ name: 'stopped' });
  }

  private async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    let prepared = false;
    this.hooks.onState({ name: 'connecting' });
    while (!signal.aborted) {
      try {
        if (!prepared) {
          await this.hooks.prepare(signal);
          prepared = true;
          attempt = 0;
          this.hooks.onState({ name: 'connected' });
        }
        const updates = await this.api.getUpdates(
          {
            offset: this.offset,
            timeout: this.timeoutSeconds,
            allowed_updates: [...ALLOWED_UPDATES],
          },
          apiSignal(signal),
        );
        for (const update of updates) {
          if (signal.aborted) return;
          try {
            await this.hooks.handle(update);
          } catch (err) {
            throw new HandleFailure(this.hooks.describe(err));
          }
          this.offset = update.update_id + 1;
        }
        attempt = 0;
      } catch (err) {
        if (signal.aborted) break;
        attempt++;
        if (err instanceof HandleFailure) {
          const retryInMs = reconnectDelay(attempt);
          this.log.error(
            { err: err.message, retryInMs },
            'update not stored; it will be fetched again',
          );
          this.hooks.onHandleError(err.message);
          await sleep(retryInMs, signal);
          continue;
        }
        const error = this.hooks.describe(err);
        const retryInMs = reconnectDelay(attempt, err);
        prepared = false;
        this.hooks.onState({ name: 'reconnecting', attempt, error, retryInMs });
        this.log.warn({ err: error, attempt, retryInMs }, 'Telegram connection lost; reconnecting');
        await sleep(retryInMs, signal);
      }
    }
  }
}
