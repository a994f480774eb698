import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSecret, type Config } from '../config/load.js';
import type { CheckResult } from './doctor-checks.js';

/** How long one live check may take before it counts as unreachable. */
const DEFAULT_TIMEOUT_MS = 15_000;

const envName = (ref: string | undefined) => (ref ?? '').replace(/^env:/, '');

function unset(channel: string, key: string, ref: string | undefined, config: Config): CheckResult {
  return {
    level: 'fail',
    title: `${channel}: ${key} (${ref ?? 'not set in config.yaml'}) has no value`,
    fix: ref?.startsWith('env:')
      ? `add ${envName(ref)}=… to ${config.paths.envFile} (chmod 600) or the environment`
      : `set ${key}: env:NAME in ${config.paths.configFile} and NAME=… in ${config.paths.envFile}`,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function checkTelegram(config: Config, ms: number): Promise<CheckResult[]> {
  const block = config.file.channels.telegram!;
  const token = resolveSecret(block.token, config.env);
  if (!token) return [unset('telegram', 'channels.telegram.token', block.token, config)];
  const apiRoot = block.apiRoot?.replace(/\/+$/, '');
  const { Api, GrammyError } = await import('grammy');
  const api = new Api(token, { ...(apiRoot ? { apiRoot } : {}), timeoutSeconds: ms / 1000 });
  try {
    const me = await withTimeout(api.getMe(), ms, 'getMe');
    return [{ level: 'ok', title: `telegram: getMe answered: bot @${me.username}` }];
  } catch (err) {
    const auth = err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404);
    return [
      {
        level: 'fail',
        title: `telegram: getMe failed: ${err instanceof GrammyError ? `${err.error_code} ${err.description}` : message(err)}`,
        fix: auth
          ? `the bot token is not valid: get it from @BotFather and set ${envName(block.token)} in ${config.paths.envFile}`
          : `check that this machine reaches ${apiRoot ?? 'https://api.telegram.org'} (channels.telegram.apiRoot)`,
      },
    ];
  }
}

async function checkSlack(config: Config, ms: number): Promise<CheckResult[]> {
  const c = config.file.channels.slack!;
  const out: CheckResult[] = [];
  const botToken = resolveSecret(c.botToken, config.env);
  if (!botToken) return [unset('slack', 'channels.slack.botToken', c.botToken, config)];
  if (c.mode === 'socket' && !resolveSecret(c.appToken, config.env))
    out.push(unset('slack', 'channels.slack.appToken (Socket Mode)', c.appToken, config));
  if (c.mode === 'http' && !resolveSecret(c.signingSecret, config.env))
    out.push(unset('slack', 'channels.slack.signingSecret (http mode)', c.signingSecret, config));
  const { webApi } = await import('@slack/bolt');
  const api = new webApi.WebClient(botToken, {
    ...(c.apiUrl ? { slackApiUrl: c.apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: ms,
    logLevel: webApi.LogLevel.ERROR,
  });
  try {
    const r = await withTimeout(api.auth.test(), ms, 'auth.test');
    out.unshift({ level: 'ok', title: `slack: auth.test answered: ${r.user} in ${r.team}` });
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    out.unshift({
      level: 'fail',
      title: `slack: auth.test failed: ${code ?? message(err)}`,
      fix:
        code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive'
          ? `the bot token is not valid: copy the Bot User OAuth Token (xoxb-…) into ${envName(c.botToken)} in ${config.paths.envFile}`
          : `check that this machine reaches ${c.apiUrl ?? 'https://slack.com/api/'} (channels.slack.apiUrl)`,
    });
  }
  return out;
}

async function checkDiscord(config: Config, ms: number): Promise<CheckResult[]> {
  const block = config.file.channels.discord!;
  const token = resolveSecret(block.token, config.env);
  if (!token) return [unset('discord', 'channels.discord.token', block.token, config)];
  const { REST, Routes, DiscordAPIError } = await import('discord.js');
  const rest = new REST({
    ...(block.apiBase ? { api: block.apiBase } : {}),
    retries: 0,
    timeout: ms,
  }).setToken(token);
  try {
    const me = (await withTimeout(rest.get(Routes.user('@me')), ms, '/users/@me')) as {
      username?: string;
    };
    return [{ level: 'ok', title: `discord: /users/@me answered: ${me.username ?? '?'}` }];
  } catch (err) {
    const status = err instanceof DiscordAPIError ? err.status : undefined;
    return [
      {
        level: 'fail',
        title: `discord: /users/@me failed: ${message(err)}`,
        fix:
          status === 401
            ? `the bot token is not valid: reset it under Bot in the Developer Portal and set ${envName(block.token)} in ${config.paths.envFile}`
            : `check that this machine reaches ${block.apiBase ?? 'https://discord.com/api'} (channels.discord.apiBase)`,
      },
    ];
  }
}

function checkWhatsApp(config: Config): CheckResult[] {
  const block = config.file.channels.whatsapp!;
  if (!block.enabled) return [];
  const credsFile = join(config.paths.home, 'channels', 'whatsapp', 'creds.json');
  let id: string | undefined;
  try {
    const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { me?: { id?: string } };
    id = creds.me?.id;
  } catch {
    id = undefined;
  }
  if (id) return [{ level: 'ok', title: `whatsapp: paired as ${id.split(':')[0]!.split('@')[0]}` }];
  return [
    {
      level: 'fail',
      title: 'whatsapp: not paired (no paired account in channels/whatsapp/creds.json)',
      fix: block.phoneNumber
        ? '`clawpod start` and enter the pairing code it prints on the phone (WhatsApp → Linked devices → Link with phone number)'
        : '`clawpod start` and scan the QR code (terminal or web chat page) with WhatsApp → Linked devices',
    },
  ];
}

async function checkEmail(config: Config, ms: number): Promise<CheckResult[]> {
  const { emailSettings } = await import('../channels/email/settings.js');
  const s = emailSettings(config);
  if (!s) return [];
  if ('skip' in s) return [{ level: 'fail', title: `email: ${s.skip}`, fix: s.fix }];
  const { probeEmail } = await import('../channels/email/probe.js');
  const found = await probeEmail(s, ms);
  const at = (h: { host: string; port: number }) => `${h.host}:${h.port}`;
  return [
    found.imap
      ? {
          level: 'fail',
          title: `email: IMAP ${at(s.imap)} ${found.imap.reason}`,
          fix: found.imap.fix,
        }
      : { level: 'ok', title: `email: IMAP ${at(s.imap)} login and ${s.mailbox} ok` },
    found.smtp
      ? {
          level: 'fail',
          title: `email: SMTP ${at(s.smtp)} ${found.smtp.reason}`,
          fix: found.smtp.fix,
        }
      : {
          level: 'ok',
          title: `email: SMTP ${at(s.smtp)} ${s.smtp.auth ? 'login' : 'connection'} ok`,
        },
  ];
}

/**
 * Live checks of every configured channel, as the owner would need them: a login with the
 * configured secrets (IMAP and SMTP, Telegram getMe, Slack auth.test, Discord /users/@me) or the
 * stored pairing (WhatsApp). A block whose secrets are missing fails with the variable to set.
 * Each check is bounded by `timeoutMs`; failures quote the platform and say what to fix.
 */
export async function checkChannels(
  config: Config,
  opts: { timeoutMs?: number } = {},
): Promise<CheckResult[]> {
  const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ch = config.file.channels;
  const checks: Array<Promise<CheckResult[]>> = [];
  const guard = (name: string, p: () => Promise<CheckResult[]>) =>
    p().catch((err: unknown): CheckResult[] => [
      { level: 'fail', title: `${name}: check failed: ${message(err)}`, fix: 'see the message' },
    ]);
  if (ch.email) checks.push(guard('email', () => checkEmail(config, ms)));
  if (ch.telegram) checks.push(guard('telegram', () => checkTelegram(config, ms)));
  if (ch.slack) checks.push(guard('slack', () => checkSlack(config, ms)));
  if (ch.discord) checks.push(guard('discord', () => checkDiscord(config, ms)));
  if (ch.whatsapp) checks.push(Promise.resolve(checkWhatsApp(config)));
  return maskSecrets((await Promise.all(checks)).flat(), config);
}

/** Every secret a channel block references, masked wherever a library's message quotes it. */
function maskSecrets(results: CheckResult[], config: Config): CheckResult[] {
  const refs = JSON.stringify(config.file.channels).match(/"env:[A-Za-z_][A-Za-z0-9_]*"/g) ?? [];
  const secrets = refs
    .map((r) => resolveSecret(r.slice(1, -1), config.env))
    .filter((v): v is string => Boolean(v && v.length >= 4));
  const hide = (t: string) => secrets.reduce((acc, v) => acc.split(v).join('***'), t);
  return results.map((r) => ({
    ...r,
    title: hide(r.title),
    ...(r.fix ? { fix: hide(r.fix) } : {}),
  }));
}
