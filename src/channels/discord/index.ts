import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../../config/load.js';
import { envName, resolveSecret, secretRef } from '../../config/secret.js';
import type { ChannelFactory } from '../channel.js';
import type { DiscordSettings } from './adapter.js';

/** `channels.discord` in config.yaml. */
export const discordSettings = z
  .strictObject({
    token: secretRef,
    /** REST root without the version (the library appends `/v10`); null: Discord's own. */
    apiBase: z.url().nullable().default(null),
    /** Least time between two messages to one Discord channel (Discord allows ~5 per 5 s). */
    perChatIntervalMs: z.number().int().min(0).default(1000),
    /** Most messages per minute across all channels (0: no cap; Discord's global is 50/s). */
    globalPerMinute: z.number().int().min(0).default(1800),
    /** First delay before logging in again with a fresh client; doubles up to 5 min. */
    reconnectDelayMs: z.number().int().min(10).default(1000),
  })
  .optional();

/** The adapter's settings from the config block, or why the channel is skipped. */
export function discordAdapterSettings(
  config: Config,
  block: z.output<typeof discordSettings>,
): DiscordSettings | { skip: string } {
  if (!block) return { skip: 'no channels.discord block in config.yaml' };
  const token = resolveSecret(block.token, config.env);
  if (!token) return { skip: `${envName(block.token)} is not set` };
  return {
    token,
    apiBase: block.apiBase,
    perChatIntervalMs: block.perChatIntervalMs,
    globalPerMinute: block.globalPerMinute,
    reconnectDelayMs: block.reconnectDelayMs,
    attachmentMaxBytes: config.file.attachments.maxBytes,
    cursorFile: join(config.paths.home, 'discord-cursors.json'),
  };
}

/** The Discord channel; discord.js (~0.5 s to load) loads only when it is configured. */
export const discordChannel: ChannelFactory<'discord', typeof discordSettings> = {
  name: 'discord',
  settings: discordSettings,
  create: async ({ config, settings, log }) => {
    const adapterSettings = discordAdapterSettings(config, settings);
    if ('skip' in adapterSettings) return adapterSettings;
    const { DiscordChannel } = await import('./adapter.js');
    return new DiscordChannel(adapterSettings, log);
  },
  check: async (ctx) => {
    const { checkDiscord } = await import('./doctor.js');
    return checkDiscord(ctx);
  },
};
