import { DiscordAPIError, REST, Routes } from 'discord.js';
import type { z } from 'zod';
import { envName, resolveSecret } from '../../config/secret.js';
import type { ChannelCheck, ChannelCheckContext } from '../channel.js';
import { errorMessage, missingSecret, withTimeout } from '../checks.js';
import type { discordSettings } from './index.js';

/** `clawpod doctor`: GET /users/@me with the configured token. */
export async function checkDiscord({
  config,
  settings: block,
  timeoutMs: ms,
}: ChannelCheckContext<z.output<typeof discordSettings>>): Promise<ChannelCheck[]> {
  if (!block) return [];
  const token = resolveSecret(block.token, config.env);
  if (!token) return [missingSecret('discord', 'channels.discord.token', block.token, config)];
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
        title: `discord: /users/@me failed: ${errorMessage(err)}`,
        fix:
          status === 401
            ? `the bot token is not valid: reset it under Bot in the Developer Portal and set ${envName(block.token)} in ${config.paths.envFile}`
            : `check that this machine reaches ${block.apiBase ?? 'https://discord.com/api'} (channels.discord.apiBase)`,
      },
    ];
  }
}
