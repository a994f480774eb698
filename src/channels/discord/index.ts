import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveSecret, type Config } from '../../config/load.js';
import {
  DeliveryError,
  type Channel,
  type ChannelHealth,
  type InboundSink,
  type SendOptions,
} from '../channel.js';
import { registerChannel } from '../registry.js';
import type { DiscordAdapter, DiscordSettings } from './adapter.js';

/** The adapter's settings from config, or why the channel is skipped (not configured). */
export function discordSettings(config: Config): DiscordSettings | { skip: string } {
  const block = config.file.channels.discord;
  if (!block) return { skip: 'no channels.discord block in config.yaml' };
  const token = resolveSecret(block.token, config.env);
  if (!token) return { skip: `${block.token.slice('env:'.length)} is not set` };
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

/**
 * The registered Discord channel. discord.js (~0.5 s to load) is imported on `connect`, so a
 * daemon without Discord configured never loads it; every call is passed to the adapter.
 */
class DiscordChannel implements Channel {
  readonly name = 'discord';
  /** Discord's limit (outbound.ts's DISCORD_MAX_LENGTH, not imported: it would load discord.js). */
  readonly limits = { maxMessageLength: 2000 };
  private adapter: DiscordAdapter | undefined;

  constructor(
    private readonly settings: DiscordSettings,
    private readonly log: Logger,
  ) {}

  owns(chatJid: string): boolean {
    return chatJid.startsWith('discord:');
  }

  async connect(sink: InboundSink): Promise<void> {
    const { DiscordAdapter } = await import('./adapter.js');
    this.adapter ??= new DiscordAdapter(this.settings, this.log);
    await this.adapter.connect(sink);
  }

  async disconnect(): Promise<void> {
    await this.adapter?.disconnect();
  }

  async send(chatJid: string, text: string, opts: SendOptions): Promise<{ platformId: string }> {
    if (!this.adapter) throw new DeliveryError('the Discord channel is not connected yet');
    return this.adapter.send(chatJid, text, opts);
  }

  async setTyping(chatJid: string, on: boolean): Promise<void> {
    await this.adapter?.setTyping(chatJid, on);
  }

  health(): ChannelHealth {
    return this.adapter?.health() ?? { connected: false, lastError: null, lastEventAt: null };
  }
}

registerChannel({
  name: 'discord',
  create: ({ config, log }) => {
    const settings = discordSettings(config);
    return 'skip' in settings ? settings : new DiscordChannel(settings, log);
  },
});
