import type { Message } from 'discord.js';
import type { DiscordMessageView, DiscordPlace } from './inbound.js';

/** discord.js's MessageReferenceType.Forward (a type-only import keeps discord.js lazy). */
const REFERENCE_FORWARD = 1;

function placeOf(message: Message): DiscordPlace {
  const channel = message.channel;
  if (!message.guildId || channel.isDMBased())
    return { kind: 'dm', name: null, parentId: null, parentName: null, guildName: null };
  const guildName = message.guild?.name ?? null;
  if (channel.isThread())
    return {
      kind: 'thread',
      name: channel.name,
      parentId: channel.parentId,
      parentName: channel.parent?.name ?? null,
      guildName,
    };
  return {
    kind: 'guild',
    name: 'name' in channel ? channel.name : null,
    parentId: null,
    parentName: null,
    guildName,
  };
}

/** The name people see: server nickname, else global display name, else user name. */
function displayName(message: Message): string {
  return message.member?.displayName ?? message.author.globalName ?? message.author.username;
}

/**
 * Reads what the mapping needs from a discord.js message. The replied-to message comes from the
 * channel's cache, which discord.js fills from the event's `referenced_message`; no API call.
 */
export function viewOf(message: Message): DiscordMessageView {
  const ref = message.reference;
  const isForward = ref?.type === REFERENCE_FORWARD;
  const replied =
    ref?.messageId && !isForward ? message.channel.messages.cache.get(ref.messageId) : undefined;
  const snapshot = isForward ? message.messageSnapshots.first() : undefined;
  const members = message.guild?.members.cache;
  return {
    id: message.id,
    channelId: message.channelId,
    content: message.content,
    createdAt: message.createdTimestamp,
    author: { id: message.author.id, name: displayName(message), bot: message.author.bot },
    webhook: message.webhookId !== null,
    system: message.system,
    place: placeOf(message),
    mentionedUsers: [...message.mentions.users.values()].map((u) => ({
      id: u.id,
      name: members?.get(u.id)?.displayName ?? u.globalName ?? u.username,
    })),
    mentionedRoles: [...message.mentions.roles.values()].map((r) => ({ id: r.id, name: r.name })),
    mentionedChannels: [...message.mentions.channels.values()].map((c) => ({
      id: c.id,
      name: 'name' in c && typeof c.name === 'string' ? c.name : c.id,
    })),
    reply:
      ref?.messageId && !isForward
        ? {
            messageId: ref.messageId,
            authorId: replied?.author.id ?? message.mentions.repliedUser?.id ?? null,
            authorName: replied
              ? (replied.member?.displayName ??
                replied.author.globalName ??
                replied.author.username)
              : null,
            content: replied?.content ?? null,
          }
        : null,
    forwarded: snapshot ? (snapshot.content ?? '') : null,
    attachments: [...message.attachments.values()].map((a) => ({
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      url: a.url,
    })),
    stickers: [...message.stickers.values()].map((s) => s.name),
  };
}
