import { resolveSecret } from '../../config/load.js';
import type { ChannelContext, Channel } from '../channel.js';
import { registerChannel } from '../registry.js';

const DEFAULT_API_URL = 'https://slack.com/api/';

/** Builds the Slack channel from `channels.slack`, or says which setting is missing. */
export async function createSlackChannel({
  config,
  log,
}: ChannelContext): Promise<Channel | { skip: string }> {
  const c = config.file.channels.slack;
  if (!c) return { skip: 'not configured (no channels.slack block)' };
  const missing = (key: string, ref: string | undefined, why: string) => ({
    skip: `channels.slack.${key} (${ref ?? 'not set in config'}) has no value; ${why}`,
  });
  const botToken = resolveSecret(c.botToken, config.env);
  if (!botToken) return missing('botToken', c.botToken, 'the bot token (xoxb-…) is required');
  const appToken = resolveSecret(c.appToken, config.env);
  const signingSecret = resolveSecret(c.signingSecret, config.env);
  if (c.mode === 'socket' && !appToken)
    return missing('appToken', c.appToken, 'Socket Mode needs an app-level token (xapp-…)');
  if (c.mode === 'http' && !signingSecret)
    return missing('signingSecret', c.signingSecret, 'http mode needs the signing secret');
  // Bolt loads only when Slack is configured.
  const { SlackChannel } = await import('./adapter.js');
  return new SlackChannel(
    {
      mode: c.mode,
      botToken,
      appToken,
      signingSecret,
      apiUrl: c.apiUrl ?? DEFAULT_API_URL,
      port: c.port,
      perChatIntervalMs: c.perChatIntervalMs,
      globalPerMinute: c.globalPerMinute,
      reconnectDelayMs: c.reconnectDelayMs,
      assistantName: config.file.assistant.name,
      maxAttachmentBytes: config.file.attachments.maxBytes,
    },
    log,
  );
}

registerChannel({ name: 'slack', create: createSlackChannel });
