import { discordChannel } from './discord/index.js';
import { emailChannel } from './email/index.js';
import { slackChannel } from './slack/index.js';
import { telegramChannel } from './telegram/index.js';
import { webChannel } from './web.js';
import { whatsappChannel } from './whatsapp/index.js';

/**
 * The channels clawpod ships with, in the order the daemon creates and connects them. This list
 * is the only place that names them: config/schema.ts composes `channels` from their settings
 * blocks, the daemon creates them (DaemonOptions.channels replaces the list), doctor runs their
 * checks. Each module here stays cheap to import: a platform library loads only when its channel
 * is configured.
 */
export const builtinChannels = [
  webChannel,
  discordChannel,
  slackChannel,
  telegramChannel,
  emailChannel,
  whatsappChannel,
] as const;

export type { ChannelFactory } from './channel.js';
