import { randomBytes } from 'node:crypto';
import { resolveSecret } from '../../config/load.js';
import { registerChannel } from '../registry.js';

/**
 * Values for the optional keys of `channels.telegram` (optional without a schema default so the
 * block parses to what the user wrote; documented beside each key in config/schema.ts).
 */
const DEFAULTS = { mode: 'polling', perChatIntervalMs: 1000, globalPerMinute: 1500 } as const;

/**
 * Registers the Telegram channel: enabled by `channels.telegram` in config.yaml with a token
 * reference that resolves (`env:TELEGRAM_BOT_TOKEN`); otherwise skipped with the reason.
 */
registerChannel({
  name: 'telegram',
  create: async ({ config, log }) => {
    const block = config.file.channels.telegram;
    if (!block) return { skip: 'not configured (no channels.telegram in config.yaml)' };
    const token = resolveSecret(block.token, config.env);
    if (!token) return { skip: `${block.token.slice('env:'.length)} is not set` };
    let webhook;
    const mode = block.mode ?? DEFAULTS.mode;
    if (mode === 'webhook' && block.webhook) {
      const w = block.webhook;
      const secretToken = w.secretToken
        ? resolveSecret(w.secretToken, config.env)
        : randomBytes(32).toString('hex');
      if (!secretToken)
        return { skip: `${w.secretToken!.slice('env:'.length)} (webhook secret) is not set` };
      if (!['127.0.0.1', '::1', 'localhost'].includes(w.host))
        log.warn({ host: w.host }, 'Telegram webhook server listens beyond loopback');
      webhook = { url: w.url, host: w.host, port: w.port, path: w.path, secretToken };
    }
    // grammY loads only when Telegram is configured.
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
});
