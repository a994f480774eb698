import { isValidTimezone } from '../../config/load.js';
import { UsageError } from '../usage-error.js';
import { checkPlan, emailBlock, envNameOf, type ChannelPlan } from './channel-plans.js';
import { bindOwner, storeSecrets, type SetupContext } from './context.js';
import { credentialProblem, MODEL_VARS, type ModelChoice } from './model-step.js';
import {
  emailOwner,
  openDiscordDm,
  openSlackDm,
  whatsappOwner,
  type OwnerLink,
} from './owner-link.js';

/** The options of `clawpod setup --yes` (commander's camelCase of the flags). */
export interface SetupFlags {
  name?: string;
  timezone?: string;
  harness?: 'claude' | 'codex';
  anthropicKey?: string;
  anthropicKeyEnv?: string;
  claudeToken?: string;
  claudeTokenEnv?: string;
  openaiKey?: string;
  openaiKeyEnv?: string;
  telegramToken?: string;
  telegramTokenEnv?: string;
  telegramApiRoot?: string;
  telegramOwner?: string;
  slackBotToken?: string;
  slackBotTokenEnv?: string;
  slackAppToken?: string;
  slackAppTokenEnv?: string;
  slackApiUrl?: string;
  slackOwner?: string;
  discordToken?: string;
  discordTokenEnv?: string;
  discordApiBase?: string;
  discordOwner?: string;
  emailImap?: string;
  emailSmtp?: string;
  emailUser?: string;
  emailPassword?: string;
  emailPasswordEnv?: string;
  emailFrom?: string;
  emailOwner?: string;
  whatsapp?: boolean;
  whatsappPhone?: string;
  whatsappOwner?: string;
  ownerId?: string[];
  bindMain?: string[];
  check?: boolean;
}

/**
 * A secret given on the command line (`--x <value>`) or, kept out of argv and shell history,
 * named by the variable of setup's own environment that holds it (`--x-env NAME`).
 */
function secretFlag(
  flags: SetupFlags,
  key: keyof SetupFlags,
  env: Record<string, string | undefined>,
  flag: string,
): string | undefined {
  const direct = flags[key] as string | undefined;
  const named = flags[`${key}Env` as keyof SetupFlags] as string | undefined;
  if (direct && named) throw new UsageError(`give --${flag} or --${flag}-env, not both`);
  if (direct) return direct;
  if (!named) return undefined;
  const v = env[named]?.trim();
  if (!v)
    throw new UsageError(`--${flag}-env ${named}: that variable is not set in this environment`);
  return v;
}

const hostPort = (s: string, port: number) => {
  const m = /^(.+?)(?::(\d+))?$/.exec(s.trim())!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : port };
};

/** The channel plans the flags describe (nothing written yet). */
function plansOf(flags: SetupFlags, ctx: SetupContext, env: Record<string, string | undefined>) {
  const plans: Array<{ plan: ChannelPlan; owner?: () => Promise<OwnerLink> | OwnerLink }> = [];
  const ref = (ch: string, key: string, fallback: string) =>
    envNameOf(ctx.doc.get(['channels', ch, key]), fallback);
  const ms = ctx.checkTimeoutMs;

  const tg = secretFlag(flags, 'telegramToken', env, 'telegram-token');
  if (tg) {
    const name = ref('telegram', 'token', 'TELEGRAM_BOT_TOKEN');
    const owner = flags.telegramOwner;
    if (owner && !/^\d{1,20}$/.test(owner))
      throw new UsageError('--telegram-owner: your numeric Telegram user id');
    plans.push({
      plan: {
        channel: 'telegram',
        block: {
          token: `env:${name}`,
          ...(flags.telegramApiRoot ? { apiRoot: flags.telegramApiRoot } : {}),
        },
        secrets: { [name]: tg },
      },
      ...(owner ? { owner: () => ({ ownerId: `tg:${owner}`, chat: `tg:${owner}` }) } : {}),
    });
  }
  const slackBot = secretFlag(flags, 'slackBotToken', env, 'slack-bot-token');
  const slackApp = secretFlag(flags, 'slackAppToken', env, 'slack-app-token');
  if (slackBot || slackApp) {
    if (!slackBot || !slackApp)
      throw new UsageError('Slack needs both --slack-bot-token(-env) and --slack-app-token(-env)');
    const bot = ref('slack', 'botToken', 'SLACK_BOT_TOKEN');
    const app = ref('slack', 'appToken', 'SLACK_APP_TOKEN');
    const apiUrl = flags.slackApiUrl;
    const user = flags.slackOwner;
    plans.push({
      plan: {
        channel: 'slack',
        block: { botToken: `env:${bot}`, appToken: `env:${app}`, ...(apiUrl ? { apiUrl } : {}) },
        secrets: { [bot]: slackBot, [app]: slackApp },
      },
      ...(user ? { owner: () => openSlackDm(slackBot, apiUrl, user, ms) } : {}),
    });
  }
  const discord = secretFlag(flags, 'discordToken', env, 'discord-token');
  if (discord) {
    const name = ref('discord', 'token', 'DISCORD_BOT_TOKEN');
    const apiBase = flags.discordApiBase;
    const user = flags.discordOwner;
    plans.push({
      plan: {
        channel: 'discord',
        block: { token: `env:${name}`, ...(apiBase ? { apiBase } : {}) },
        secrets: { [name]: discord },
      },
      ...(user ? { owner: () => openDiscordDm(discord, apiBase, user, ms) } : {}),
    });
  }
  if (flags.emailImap || flags.emailSmtp || flags.emailUser) {
    const pw = secretFlag(flags, 'emailPassword', env, 'email-password');
    if (!flags.emailImap || !flags.emailSmtp || !flags.emailUser || !pw)
      throw new UsageError(
        'email needs --email-imap host[:port], --email-smtp host[:port], --email-user and --email-password(-env)',
      );
    const imap = hostPort(flags.emailImap, 993);
    const smtp = hostPort(flags.emailSmtp, 465);
    const imapPw = envNameOf(
      ctx.doc.get(['channels', 'email', 'imap', 'password']),
      'EMAIL_IMAP_PASSWORD',
    );
    const smtpPw = 'EMAIL_SMTP_PASSWORD';
    const user = flags.emailUser;
    const from = flags.emailFrom ?? (user.includes('@') ? user : undefined);
    if (!from)
      throw new UsageError("--email-from: the assistant's address (the user is no address)");
    const ownerAddress = flags.emailOwner;
    plans.push({
      plan: {
        channel: 'email',
        block: emailBlock({ imap, smtp, user, from, imapPw, smtpPw }),
        secrets: { [imapPw]: pw, [smtpPw]: pw },
      },
      ...(ownerAddress ? { owner: () => emailOwner(ownerAddress) } : {}),
    });
  }
  if (flags.whatsapp || flags.whatsappPhone) {
    const owner = flags.whatsappOwner;
    plans.push({
      plan: {
        channel: 'whatsapp',
        block: {
          enabled: true,
          ...(flags.whatsappPhone ? { phoneNumber: flags.whatsappPhone } : {}),
        },
        secrets: {},
      },
      ...(owner ? { owner: () => whatsappOwner(owner) } : {}),
    });
  }
  return plans;
}

/** The model credentials the flags give, by variable. */
function modelSecrets(flags: SetupFlags, env: Record<string, string | undefined>) {
  const out: Record<string, string> = {};
  const pairs: Array<[ModelChoice, keyof SetupFlags, string]> = [
    ['anthropic', 'anthropicKey', 'anthropic-key'],
    ['subscription', 'claudeToken', 'claude-token'],
    ['openai', 'openaiKey', 'openai-key'],
  ];
  for (const [kind, key, flag] of pairs) {
    const v = secretFlag(flags, key, env, flag);
    if (!v) continue;
    const problem = credentialProblem(kind, v);
    if (problem) throw new UsageError(`--${flag}: ${problem}`);
    out[MODEL_VARS[kind]] = v;
  }
  return out;
}

/**
 * `clawpod setup --yes`: the same steps from flags, nothing asked. Every value is checked and
 * every channel logged in to (unless `--no-check`) before anything is written, so a wrong
 * token stops the run with the platform's reason and leaves the files as they were. Returns
 * the lines to print; throws UsageError (exit 2) or an Error (exit 1) naming what to fix.
 */
export async function runNonInteractive(
  ctx: SetupContext,
  flags: SetupFlags,
  env: Record<string, string | undefined>,
): Promise<string[]> {
  const out: string[] = [];
  if (flags.name !== undefined && !/^[A-Za-z][\w-]{0,31}$/.test(flags.name))
    throw new UsageError('--name: a letter, then letters, digits, _ or - (up to 32)');
  if (flags.timezone !== undefined && !isValidTimezone(flags.timezone))
    throw new UsageError('--timezone: an IANA zone such as Europe/Berlin');
  for (const id of flags.ownerId ?? [])
    if (!/^[a-z][a-z0-9]{0,15}:\S+$/.test(id))
      throw new UsageError(`--owner-id ${id}: a sender id such as tg:4242`);
  const models = modelSecrets(flags, env);
  const plans = plansOf(flags, ctx, env);

  if (flags.check !== false) {
    const problems: string[] = [];
    for (const { plan } of plans) {
      for (const r of await checkPlan(ctx, plan)) {
        if (r.level === 'fail') problems.push(`✗ ${r.title}${r.fix ? `\n    fix: ${r.fix}` : ''}`);
        else out.push(`✓ ${r.title}`);
      }
    }
    if (problems.length)
      throw new Error(`live check failed; nothing was written:\n${problems.join('\n')}`);
  }

  storeSecrets(ctx, models);
  if (Object.keys(models).length)
    out.push(`stored ${Object.keys(models).join(', ')} in ${ctx.paths.envFile} (mode 0600)`);
  if (flags.name) ctx.doc.set(['assistant', 'name'], flags.name);
  if (flags.timezone) ctx.doc.set(['timezone'], flags.timezone);
  if (flags.harness) ctx.doc.set(['defaults', 'harness'], flags.harness);
  for (const { plan } of plans) {
    storeSecrets(ctx, plan.secrets);
    ctx.doc.merge(['channels', plan.channel], plan.block);
    out.push(`channel ${plan.channel} saved`);
  }
  ctx.doc.save();
  out.push(`wrote ${ctx.doc.file}`);

  const links: Array<{ ownerId?: string; chat?: string }> = [];
  for (const p of plans) if (p.owner) links.push(await p.owner());
  for (const id of flags.ownerId ?? []) links.push({ ownerId: id });
  for (const chat of flags.bindMain ?? []) links.push({ chat });
  for (const link of links) {
    const r = await bindOwner(ctx, link);
    if (link.ownerId) out.push(`owner id ${link.ownerId} added to owner.ids`);
    if (!link.chat) continue;
    if (typeof r === 'object')
      throw new Error(
        `${link.chat} is bound to group ${r.boundTo}; unbind it first: clawpod groups unbind ${r.boundTo} ${link.chat}`,
      );
    out.push(`${link.chat} ${r === 'bound' ? 'bound' : 'already bound'} to main`);
  }
  return out;
}
