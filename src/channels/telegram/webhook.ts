import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { webhookCallback, type Bot } from 'grammy';
import type { Logger } from 'pino';

/** Where Telegram posts updates, under the channel's mount point `/channels/telegram`. */
export const WEBHOOK_PATH = '/webhook';
const MAX_BODY = 1_000_000;

/**
 * Webhook mode's route on the daemon's HTTP server: `POST /channels/telegram/webhook`. Telegram
 * sends the secret registered with setWebhook in X-Telegram-Bot-Api-Secret-Token; any other
 * request gets 401 (grammY checks it, in constant time). The answer goes out only after the
 * update is stored (200), or 500 when storing failed, so Telegram sends it again.
 */
export function webhookRoutes(
  bot: Bot,
  secretToken: string,
  hooks: { onHandleError(message: string): void; describe(err: unknown): string },
  log: Logger,
): Hono {
  const callback = webhookCallback(bot, 'hono', {
    secretToken,
    onTimeout: 'throw',
    timeoutMilliseconds: 50_000,
  });
  const routes = new Hono();
  routes.post(
    WEBHOOK_PATH,
    bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.body(null, 413) }),
    async (c) => {
      try {
        return await callback(c);
      } catch (err) {
        const message = hooks.describe(err);
        hooks.onHandleError(message);
        log.error({ err: message }, 'webhook update not stored; Telegram will retry');
        return c.body(null, 500);
      }
    },
  );
  return routes;
}
