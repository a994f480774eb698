import { webApi } from '@slack/bolt';
import type { z } from 'zod';
import { envName, resolveSecret } from '../../config/secret.js';
import type { ChannelCheck, ChannelCheckContext } from '../channel.js';
import { errorMessage, missingSecret, withTimeout } from '../checks.js';
import { EVENTS_ROUTE, type slackSettings } from './index.js';

/** `clawpod doctor`: auth.test with the bot token; the mode's own secret; an ignored old port. */
export async function checkSlack({
  config,
  settings: c,
  timeoutMs: ms,
}: ChannelCheckContext<z.output<typeof slackSettings>>): Promise<ChannelCheck[]> {
  if (!c) return [];
  const out: ChannelCheck[] = [];
  const botToken = resolveSecret(c.botToken, config.env);
  if (!botToken) return [missingSecret('slack', 'channels.slack.botToken', c.botToken, config)];
  if (c.mode === 'socket' && !resolveSecret(c.appToken, config.env))
    out.push(missingSecret('slack', 'channels.slack.appToken (Socket Mode)', c.appToken, config));
  if (c.mode === 'http' && !resolveSecret(c.signingSecret, config.env))
    out.push(
      missingSecret('slack', 'channels.slack.signingSecret (http mode)', c.signingSecret, config),
    );
  if (c.port !== undefined)
    out.push({
      level: 'warn',
      title: "slack: channels.slack.port is ignored: events arrive on the daemon's HTTP server",
      fix: `set the Request URL to https://<your host>${EVENTS_ROUTE}, forwarded to http://<http.host>:<http.port>${EVENTS_ROUTE}; name the host in http.allowedHosts; remove port from ${config.paths.configFile}`,
    });
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
      title: `slack: auth.test failed: ${code ?? errorMessage(err)}`,
      fix:
        code === 'invalid_auth' || code === 'not_authed' || code === 'account_inactive'
          ? `the bot token is not valid: copy the Bot User OAuth Token (xoxb-…) into ${envName(c.botToken)} in ${config.paths.envFile}`
          : `check that this machine reaches ${c.apiUrl ?? 'https://slack.com/api/'} (channels.slack.apiUrl)`,
    });
  }
  return out;
}
