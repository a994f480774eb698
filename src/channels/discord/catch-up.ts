import { DiscordAPIError, SnowflakeUtil, type Client, type Message } from 'discord.js';
import { newer } from './cursors.js';

/** How far back catching up reaches (like Telegram keeping updates for a day). */
export const CATCH_UP_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const PAGE = 100;

/**
 * The messages a channel got after message `after` (and within the last day), oldest first,
 * at most `maxPages` pages of 100. 'gone' when the channel no longer exists or the bot lost
 * access to it (its cursor should be forgotten).
 */
export async function messagesAfter(
  client: Client,
  channelId: string,
  after: string,
  opts: { maxPages?: number; now?: number } = {},
): Promise<Message[] | 'gone'> {
  const oldest = SnowflakeUtil.generate({
    timestamp: (opts.now ?? Date.now()) - CATCH_UP_MAX_AGE_MS,
  }).toString();
  let cursor = newer(after, oldest) ? after : oldest;
  let channel;
  try {
    channel = await client.channels.fetch(channelId);
  } catch (err) {
    if (err instanceof DiscordAPIError && [403, 404].includes(err.status)) return 'gone';
    throw err;
  }
  if (!channel?.isTextBased()) return 'gone';
  const found: Message[] = [];
  for (let page = 0; page < (opts.maxPages ?? 5); page++) {
    const batch = await channel.messages.fetch({ after: cursor, limit: PAGE, cache: false });
    const sorted = [...batch.values()].sort((a, b) => (newer(a.id, b.id) ? 1 : -1));
    found.push(...sorted);
    if (batch.size < PAGE || sorted.length === 0) break;
    cursor = sorted.at(-1)!.id;
  }
  return found;
}
