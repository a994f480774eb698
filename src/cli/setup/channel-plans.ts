import { resolveSecret, type Config } from '../../config/load.js';
import { configFileSchema } from '../../config/schema.js';
import { checkChannels } from '../doctor-channels.js';
import type { CheckResult } from '../doctor-checks.js';
import { configNow, type SetupContext } from './context.js';

/** The channels the wizard sets up. */
export const channelNames = ['telegram', 'slack', 'discord', 'email', 'whatsapp'] as const;
export type ChannelName = (typeof channelNames)[number];

/**
 * One channel as the wizard will write it: the `channels.<name>` block for config.yaml (secrets
 * only as `env:NAME`) and the secret values for `.env`.
 */
export interface ChannelPlan {
  channel: ChannelName;
  block: Record<string, unknown>;
  secrets: Record<string, string>;
}

/** Labels and where to get each setting, shown before the questions (docs/channels/*.md). */
export const channelInfo: Record<ChannelName, { label: string; howTo: string }> = {
  telegram: {
    label: 'Telegram',
    howTo:
      'In Telegram, open @BotFather, send /newbot and answer its questions.\n' +
      'It answers with the bot token, e.g. 123456789:AA…\n' +
      'To let the bot read whole group chats: /setprivacy → your bot → Disable.',
  },
  slack: {
    label: 'Slack',
    howTo:
      'At api.slack.com/apps: Create New App → From scratch.\n' +
      'Socket Mode: enable it; create an app-level token with connections:write (xapp-…).\n' +
      'OAuth & Permissions: bot scopes app_mentions:read, chat:write, channels:history,\n' +
      '  groups:history, im:history, im:write, mpim:history, users:read, files:read, files:write;\n' +
      '  install to the workspace and copy the Bot User OAuth Token (xoxb-…).\n' +
      'Event Subscriptions: bot events message.channels, message.groups, message.im,\n' +
      '  message.mpim, app_mention. App Home: allow messages in the Messages tab.',
  },
  discord: {
    label: 'Discord',
    howTo:
      'At discord.com/developers/applications: New Application → Bot → Reset Token, copy it.\n' +
      'Same page: turn on MESSAGE CONTENT INTENT.\n' +
      'OAuth2 → URL Generator: scope bot; permissions View Channels, Send Messages,\n' +
      '  Read Message History, Attach Files; open the URL to add the bot to your server.',
  },
  email: {
    label: 'Email (IMAP + SMTP)',
    howTo:
      'Use a mailbox for the assistant alone: its IMAP and SMTP host, user and password.\n' +
      'For Gmail or Fastmail that is an app password (account security settings).\n' +
      'Every sender address becomes a chat; mail from you goes to main.',
  },
  whatsapp: {
    label: 'WhatsApp',
    howTo:
      'clawpod links to a WhatsApp account as a linked device (like WhatsApp Web).\n' +
      'Use a spare number if you can. On the first `clawpod start` the terminal shows a QR code\n' +
      '(or, with a phone number, a pairing code): WhatsApp → Linked devices → Link a device.',
  },
};

/** The env name a secret of an existing block uses (so a re-run keeps the owner's names). */
export function envNameOf(ref: unknown, fallback: string): string {
  return typeof ref === 'string' && ref.startsWith('env:') ? ref.slice(4) : fallback;
}

/** The configuration with only this plan's channel, its secrets set: for a live check. */
function planConfig(ctx: SetupContext, plan: ChannelPlan): Config {
  const base = configNow(ctx);
  const parsed = configFileSchema.parse({ channels: { [plan.channel]: plan.block } });
  return {
    ...base,
    file: { ...base.file, channels: parsed.channels },
    env: { ...ctx.env, ...plan.secrets },
  };
}

/**
 * The live check of one planned channel, through doctor's checks (a login with the given
 * secrets: getMe, auth.test, /users/@me, IMAP and SMTP login). WhatsApp has nothing to check
 * before pairing, so it returns no results.
 */
export async function checkPlan(ctx: SetupContext, plan: ChannelPlan): Promise<CheckResult[]> {
  if (plan.channel === 'whatsapp') return [];
  return checkChannels(planConfig(ctx, plan), { timeoutMs: ctx.checkTimeoutMs });
}

/** A secret of the plan, by its config reference. */
export function planSecret(plan: ChannelPlan, ref: unknown, env: Record<string, string>) {
  return typeof ref === 'string' ? resolveSecret(ref, { ...env, ...plan.secrets }) : undefined;
}

/**
 * The `channels.email` block setup writes: IMAP and SMTP on the given hosts with one user, TLS
 * from the first byte on the well-known ports (993, 465), passwords as `env:` references.
 */
export function emailBlock(o: {
  imap: { host: string; port: number };
  smtp: { host: string; port: number };
  user: string;
  from: string;
  imapPw: string;
  smtpPw: string;
}): Record<string, unknown> {
  return {
    imap: {
      host: o.imap.host,
      port: o.imap.port,
      secure: o.imap.port === 993,
      user: o.user,
      password: `env:${o.imapPw}`,
    },
    smtp: {
      host: o.smtp.host,
      port: o.smtp.port,
      secure: o.smtp.port === 465,
      user: o.user,
      password: `env:${o.smtpPw}`,
    },
    from: o.from,
  };
}
