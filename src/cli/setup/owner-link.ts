/**
 * Finding the owner on a channel, so the wizard can put their sender id in `owner.ids` and bind
 * their direct chat with the bot to `main`. Uses the platforms' public APIs through the same
 * libraries the channels use (never an adapter's internals).
 */

/** The owner as seen on a channel: their sender id and the direct chat with the bot. */
export interface OwnerLink {
  ownerId: string;
  chat: string;
  /** A name to show for confirmation. */
  name?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Waits for the first direct message to the Telegram bot (long polling `getUpdates` itself,
 * so the daemon must not be polling the same bot) and marks it read, so a daemon started later
 * does not answer it. Resolves null when `signal` ends the wait; rejects with Telegram's reason
 * (e.g. 409 while another poller or a webhook holds the bot).
 */
export async function waitForTelegramOwner(
  token: string,
  apiRoot: string | null | undefined,
  signal: AbortSignal,
): Promise<OwnerLink | null> {
  const { Api, GrammyError } = await import('grammy');
  const api = new Api(token, apiRoot ? { apiRoot: apiRoot.replace(/\/+$/, '') } : {});
  let offset: number | undefined;
  while (!signal.aborted) {
    let updates;
    try {
      updates = await api.getUpdates(
        { offset, timeout: 25, allowed_updates: ['message'] },
        // grammY types its signal with the abort-controller polyfill; Node's is the same at run time.
        signal as Parameters<typeof api.getUpdates>[1],
      );
    } catch (err) {
      if (signal.aborted) return null;
      throw new Error(
        err instanceof GrammyError
          ? `getUpdates: ${err.error_code} ${err.description}`
          : `getUpdates: ${message(err)}`,
        { cause: err },
      );
    }
    for (const u of updates) {
      offset = u.update_id + 1;
      const m = u.message;
      if (!m?.from || m.chat.type !== 'private' || m.from.is_bot) continue;
      // Confirm the updates seen so far: they are not delivered again.
      await api.getUpdates({ offset, timeout: 0, limit: 1 }).catch(() => undefined);
      const name = [m.from.first_name, m.from.last_name].filter(Boolean).join(' ');
      return { ownerId: `tg:${m.from.id}`, chat: `tg:${m.chat.id}`, name };
    }
  }
  return null;
}

/** The Slack DM between the bot and `userId` (conversations.open, scope im:write). */
export async function openSlackDm(
  botToken: string,
  apiUrl: string | null | undefined,
  userId: string,
  timeoutMs: number,
): Promise<OwnerLink> {
  const { webApi } = await import('@slack/bolt');
  const api = new webApi.WebClient(botToken, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    timeout: timeoutMs,
    logLevel: webApi.LogLevel.ERROR,
  });
  try {
    const r = await api.conversations.open({ users: userId });
    const id = r.channel?.id;
    if (!id) throw new Error('conversations.open answered no channel');
    return { ownerId: `slack:${userId}`, chat: `slack:${id}` };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    throw new Error(
      `conversations.open failed: ${code ?? message(err)}${code === 'missing_scope' ? ' (add the im:write bot scope and reinstall the app)' : ''}`,
      { cause: err },
    );
  }
}

/** The Discord DM channel between the bot and `userId` (POST /users/@me/channels). */
export async function openDiscordDm(
  token: string,
  apiBase: string | null | undefined,
  userId: string,
  timeoutMs: number,
): Promise<OwnerLink> {
  const { REST, Routes } = await import('discord.js');
  const rest = new REST({ ...(apiBase ? { api: apiBase } : {}), retries: 0, timeout: timeoutMs });
  rest.setToken(token);
  try {
    const dm = (await rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as {
      id?: string;
    };
    if (!dm.id) throw new Error('no channel id in the answer');
    return { ownerId: `discord:${userId}`, chat: `discord:${dm.id}` };
  } catch (err) {
    throw new Error(`opening a DM with ${userId} failed: ${message(err)}`, { cause: err });
  }
}

/** The owner's mail address: its chat (`mail:<address>`, lower case) is also their sender id. */
export function emailOwner(address: string): OwnerLink {
  const a = address.trim().toLowerCase();
  return { ownerId: `mail:${a}`, chat: `mail:${a}` };
}

/** The owner's WhatsApp number (digits, country code first): chat and sender are its JID. */
export function whatsappOwner(phone: string): OwnerLink {
  const jid = `wa:${phone.replace(/\D/g, '')}@s.whatsapp.net`;
  return { ownerId: jid, chat: jid };
}
