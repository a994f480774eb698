import { Api, GrammyError } from 'grammy';
import type { z } from 'zod';
import { envName, resolveSecret } from '../../config/secret.js';
import type { ChannelCheck, ChannelCheckContext } from '../channel.js';
import { errorMessage, missingSecret, withTimeout } from '../checks.js';
import { deprecatedWebhookKeys, WEBHOOK_ROUTE, type telegramSettings } from './index.js';

/** `clawpod doctor`: getMe with the configured token; old webhook keys that are ignored now. */
export async function checkTelegram({
  config,
  settings: block,
  timeoutMs: ms,
}: ChannelCheckContext<z.output<typeof telegramSettings>>): Promise<ChannelCheck[]> {
  if (!block) return [];
  const token = resolveSecret(block.token, config.env);
  if (!token) return [missingSecret('telegram', 'channels.telegram.token', block.token, config)];
  const out: ChannelCheck[] = [];
  const ignored = block.webhook ? deprecatedWebhookKeys(block.webhook) : [];
  if (ignored.length)
    out.push({
      level: 'warn',
      title: `telegram: ${ignored.join(', ')} ignored: webhooks arrive on the daemon's HTTP server`,
      fix: `forward ${block.webhook!.url} to http://<http.host>:<http.port>${WEBHOOK_ROUTE}, name the public host in http.allowedHosts, and remove those keys from ${config.paths.configFile}`,
    });
  const apiRoot = block.apiRoot?.replace(/\/+$/, '');
  const api = new Api(token, { ...(apiRoot ? { apiRoot } : {}), timeoutSeconds: ms / 1000 });
  try {
    const me = await withTimeout(api.getMe(), ms, 'getMe');
    out.unshift({ level: 'ok', title: `telegram: getMe answered: bot @${me.username}` });
  } catch (err) {
    const auth = err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404);
    out.unshift({
      level: 'fail',
      title: `telegram: getMe failed: ${err instanceof GrammyError ? `${err.error_code} ${err.description}` : errorMessage(err)}`,
      fix: auth
        ? `the bot token is not valid: get it from @BotFather and set ${envName(block.token)} in ${config.paths.envFile}`
        : `check that this machine reaches ${apiRoot ?? 'https://api.telegram.org'} (channels.telegram.apiRoot)`,
    });
  }
  return out;
}
