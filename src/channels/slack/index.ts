import { z } from 'zod';
import { resolveSecret, secretRef } from '../../config/secret.js';
import type { ChannelFactory } from '../channel.js';

const DEFAULT_API_URL = 'https://slack.com/api/';

/** The route Slack posts events to in http mode (see http-receiver.ts). */
export const EVENTS_ROUTE = '/channels/slack/events';

/** `channels.slack` in config.yaml. */
export const slackSettings = z
  .strictObject({
    botToken: secretRef,
    appToken: secretRef.optional(),
    signingSecret: secretRef.optional(),
    apiUrl: z.url().nullable().default(null),
    /** socket: Socket Mode (app token); http: Events API POSTs, signing secret checked. */
    mode: z.enum(['socket', 'http']).default('socket'),
    /**
     * Deprecated: http mode's events arrive on the daemon's HTTP server now
     * (`POST /channels/slack/events`). Accepted so an older config loads; ignored, warned at start.
     */
    port: z.number().int().min(0).max(65535).optional(),
    /** Least time between two posts to one Slack channel (threads included). */
    perChatIntervalMs: z.number().int().min(0).default(1000),
    /** Most posts per minute across all channels (0: no cap). */
    globalPerMinute: z.number().int().min(0).default(100),
    /** First reconnect delay; doubles per failed attempt up to 60 s. */
    reconnectDelayMs: z.number().int().min(10).default(1000),
  })
  .optional();

/** The Slack channel from `channels.slack`, or which setting is missing. Bolt loads only then. */
export const slackChannel: ChannelFactory<'slack', typeof slackSettings> = {
  name: 'slack',
  settings: slackSettings,
  create: async ({ config, settings: c, log }) => {
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
    if (c.port !== undefined)
      log.warn(
        { ignored: 'channels.slack.port', route: EVENTS_ROUTE },
        'channels.slack.port is no longer used: Slack posts events to the daemon HTTP server; point your proxy at the route (docs/channels/slack.md)',
      );
    const { SlackChannel } = await import('./adapter.js');
    return new SlackChannel(
      {
        mode: c.mode,
        botToken,
        appToken,
        signingSecret,
        apiUrl: c.apiUrl ?? DEFAULT_API_URL,
        perChatIntervalMs: c.perChatIntervalMs,
        globalPerMinute: c.globalPerMinute,
        reconnectDelayMs: c.reconnectDelayMs,
        assistantName: config.file.assistant.name,
        maxAttachmentBytes: config.file.attachments.maxBytes,
      },
      log,
    );
  },
  check: async (ctx) => {
    const { checkSlack } = await import('./doctor.js');
    return checkSlack(ctx);
  },
};
