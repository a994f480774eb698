import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { envName, resolveSecret, secretRef } from '../../config/secret.js';
import type { ChannelFactory } from '../channel.js';

/**
 * `channels.telegram` in config.yaml. Optional keys without a schema default parse to what the
 * user wrote; their defaults are in DEFAULTS below.
 */
export const telegramSettings = z
  .strictObject({
    token: secretRef,
    /** A local Bot API server (or a test fake) instead of https://api.telegram.org. */
    apiRoot: z.url().nullable().default(null),
    /** `polling` (when absent): long polling, no inbound port. `webhook`: see `webhook`. */
    mode: z.enum(['polling', 'webhook']).optional(),
    /** Webhook mode: Telegram posts to the daemon's HTTP server, behind your HTTPS proxy. */
    webhook: z
      .strictObject({
        /** The public HTTPS URL Telegram posts updates to (forwarded to /channels/telegram/webhook). */
        url: z.url(),
        /** Deprecated (webhooks arrive on the daemon's HTTP server): ignored, warned at start. */
        host: z.string().optional(),
        /** Deprecated with `host`. */
        port: z.number().int().min(0).max(65535).optional(),
        /** Deprecated with `host`. */
        path: z.string().regex(/^\//, 'a path starting with /').optional(),
        /** Checked against X-Telegram-Bot-Api-Secret-Token; random per start when absent. */
        secretToken: secretRef.optional(),
      })
      .optional(),
    /** Least ms between two sends to one chat; absent: 1000 (Telegram: ~1 message/s per chat). */
    perChatIntervalMs: z.number().int().min(0).optional(),
    /** Most sends per minute over all chats; absent: 1500 (Telegram allows ~30/s; 0 = no cap). */
    globalPerMinute: z.number().int().min(0).optional(),
  })
  .refine((t) => t.mode !== 'webhook' || t.webhook !== undefined, {
    message: 'mode webhook needs a webhook block with at least url',
    path: ['webhook'],
  })
  .optional();

/** The route Telegram posts to in webhook mode (see webhook.ts). */
export const WEBHOOK_ROUTE = '/channels/telegram/webhook';

/**
 * The keys of the old webhook server of its own (`host`, `port`, `path`) that a config still
 * sets: accepted so an older config.yaml loads, ignored, named in a warning and by doctor.
 */
export function deprecatedWebhookKeys(w: {
  host?: string;
  port?: number;
  path?: string;
}): string[] {
  return (['host', 'port', 'path'] as const)
    .filter((k) => w[k] !== undefined)
    .map((k) => `channels.telegram.webhook.${k}`);
}

/** Values for the optional keys of `channels.telegram`. */
const DEFAULTS = { mode: 'polling', perChatIntervalMs: 1000, globalPerMinute: 1500 } as const;

/**
 * The Telegram channel: enabled by `channels.telegram` in config.yaml with a token reference
 * that resolves (`env:TELEGRAM_BOT_TOKEN`); otherwise skipped with the reason. grammY loads only
 * then.
 */
export const telegramChannel: ChannelFactory<'telegram', typeof telegramSettings> = {
  name: 'telegram',
  settings: telegramSettings,
  create: async ({ config, settings: block, log }) => {
    if (!block) return { skip: 'not configured (no channels.telegram in config.yaml)' };
    const token = resolveSecret(block.token, config.env);
    if (!token) return { skip: `${envName(block.token)} is not set` };
    let webhook;
    const mode = block.mode ?? DEFAULTS.mode;
    if (mode === 'webhook' && block.webhook) {
      const w = block.webhook;
      const secretToken = w.secretToken
        ? resolveSecret(w.secretToken, config.env)
        : randomBytes(32).toString('hex');
      if (!secretToken) return { skip: `${envName(w.secretToken)} (webhook secret) is not set` };
      const ignored = deprecatedWebhookKeys(w);
      if (ignored.length)
        log.warn(
          { ignored, route: WEBHOOK_ROUTE },
          'channels.telegram.webhook host/port/path are no longer used: Telegram posts to the daemon HTTP server; point your proxy at the route (docs/channels/telegram.md)',
        );
      webhook = { url: w.url, secretToken };
    }
    const { TelegramChannel } = await import('./adapter.js');
    return new TelegramChannel(
      {
        token,
        apiRoot: block.apiRoot,
        mode,
        webhook,
        perChatIntervalMs: block.perChatIntervalMs ?? DEFAULTS.perChatIntervalMs,
        globalPerMinute: block.globalPerMinute ?? DEFAULTS.globalPerMinute,
        attachmentMaxBytes: config.file.attachments.maxBytes,
      },
      log,
    );
  },
  check: async (ctx) => {
    const { checkTelegram } = await import('./doctor.js');
    return checkTelegram(ctx);
  },
};
