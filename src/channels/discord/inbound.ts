import type { Inbound } from '../channel.js';

/** Where a message was posted. Threads are channels of their own on Discord. */
export interface DiscordPlace {
  kind: 'dm' | 'guild' | 'thread';
  /** Channel (or thread) name; null for DMs. */
  name: string | null;
  /** A thread's parent channel (its id makes the chat id `discord:<parent>/<thread>`). */
  parentId: string | null;
  parentName: string | null;
  guildName: string | null;
}

/** A file announced with a message (downloaded separately, see downloads.ts). */
export interface DiscordAttachmentRef {
  name: string;
  contentType: string | null;
  size: number;
  url: string;
}

/**
 * What the adapter reads from one Discord message: a library-independent view, built from
 * discord.js's `Message` by `viewOf` (message-view.ts), so the mapping is testable on its own.
 */
export interface DiscordMessageView {
  id: string;
  channelId: string;
  content: string;
  createdAt: number;
  author: { id: string; name: string; bot: boolean };
  /** Posted by a webhook (no human behind it). */
  webhook: boolean;
  /** A system message (member joined, pin, boost, …), not something a person wrote. */
  system: boolean;
  place: DiscordPlace;
  /** Users mentioned natively (includes the author of the replied-to message when pinged). */
  mentionedUsers: Array<{ id: string; name: string }>;
  mentionedRoles: Array<{ id: string; name: string }>;
  mentionedChannels: Array<{ id: string; name: string }>;
  /** The message this one replies to, when Discord says so (content null when not known). */
  reply: {
    messageId: string;
    authorId: string | null;
    authorName: string | null;
    content: string | null;
  } | null;
  /** A forwarded message's text (Discord's message snapshots). */
  forwarded: string | null;
  attachments: DiscordAttachmentRef[];
  stickers: string[];
}

export interface BotIdentity {
  id: string;
  name: string;
}

/** An Inbound without its attachment bytes, plus the files still to fetch. */
export interface MappedMessage {
  inbound: Inbound;
  attachments: DiscordAttachmentRef[];
}

const QUOTE_MAX = 200;

/**
 * The chat id: `discord:<channel id>` for server channels and DMs; a thread (or forum post) is
 * `discord:<parent channel id>/<thread id>`, so it follows its parent's binding unless bound
 * itself.
 */
export function chatIdOf(view: Pick<DiscordMessageView, 'channelId' | 'place'>): string {
  const { kind, parentId } = view.place;
  return kind === 'thread' && parentId
    ? `discord:${parentId}/${view.channelId}`
    : `discord:${view.channelId}`;
}

/** `DM with Alice`, `Guild #general`, `Guild #general › thread name`. */
export function chatName(place: DiscordPlace, author: string): string {
  if (place.kind === 'dm') return `DM with ${author}`;
  const guild = place.guildName ? `${place.guildName} ` : '';
  if (place.kind === 'thread') return `${guild}#${place.parentName ?? '?'} › ${place.name ?? '?'}`;
  return `${guild}#${place.name ?? '?'}`;
}

/**
 * Replaces Discord's mention syntax with readable names: `<@id>` → `@name`, `<@&id>` → `@role`,
 * `<#id>` → `#channel`, custom emoji `<:name:id>` → `:name:`. Unknown ids stay as they are.
 */
export function readableMentions(
  content: string,
  view: DiscordMessageView,
  bot: BotIdentity,
): string {
  const users = new Map(view.mentionedUsers.map((u) => [u.id, u.name]));
  users.set(bot.id, bot.name);
  const roles = new Map(view.mentionedRoles.map((r) => [r.id, r.name]));
  const channels = new Map(view.mentionedChannels.map((c) => [c.id, c.name]));
  return content
    .replace(/<@!?(\d+)>/g, (m, id: string) => (users.has(id) ? `@${users.get(id)}` : m))
    .replace(/<@&(\d+)>/g, (m, id: string) => (roles.has(id) ? `@${roles.get(id)}` : m))
    .replace(/<#(\d+)>/g, (m, id: string) => (channels.has(id) ? `#${channels.get(id)}` : m))
    .replace(/<a?(:\w+:)\d+>/g, '$1');
}

/** One short line quoting what a message replies to: `> Bob: the first 200 characters…`. */
export function quoteLine(reply: NonNullable<DiscordMessageView['reply']>): string | null {
  if (reply.content === null) return null;
  const flat = reply.content.replace(/\s+/g, ' ').trim();
  const cut = flat.length > QUOTE_MAX ? `${flat.slice(0, QUOTE_MAX - 1)}…` : flat;
  return `> ${reply.authorName ?? 'someone'}: ${cut || '(no text)'}`;
}

/**
 * Maps one Discord message to an Inbound, or null when it is not for the router. The sender is
 * `discord:<user id>` (the form sender allowlists use).
 *
 * Rules: the bot's own messages are ignored (the outbox already recorded them); system messages
 * are ignored; other bots and webhooks pass with `isBot: true` (stored, never a prompt). A DM
 * always addresses the bot (`mentioned: true`). In a server channel the bot is mentioned when
 * Discord lists it among the mentioned users, when the content holds `<@botId>`, or when the
 * message replies to one of the bot's messages. A reply carries the replied-to id and ends with
 * a one-line quote of it (after the text, so a trigger word at the start still works); mentions
 * are rewritten to names; stickers become `[sticker: name]`.
 */
export function toInbound(view: DiscordMessageView, bot: BotIdentity): MappedMessage | null {
  if (view.author.id === bot.id || view.system) return null;
  const isBot = view.author.bot || view.webhook;
  const direct = view.place.kind === 'dm';
  const mentioned =
    !isBot &&
    (direct ||
      view.mentionedUsers.some((u) => u.id === bot.id) ||
      new RegExp(`<@!?${bot.id}>`).test(view.content) ||
      view.reply?.authorId === bot.id);
  // The quote goes after the text, so a trigger word at the start still counts.
  const lines: string[] = [];
  if (view.content) lines.push(readableMentions(view.content, view, bot));
  for (const s of view.stickers) lines.push(`[sticker: ${s}]`);
  if (view.forwarded !== null)
    lines.push(`> [forwarded] ${readableMentions(view.forwarded, view, bot)}`);
  const quote = view.reply && quoteLine(view.reply);
  if (quote) lines.push(readableMentions(quote, view, bot));
  const inbound: Inbound = {
    chatId: chatIdOf(view),
    platformId: view.id,
    sender: `discord:${view.author.id}`,
    senderName: view.author.name,
    text: lines.join('\n'),
    ts: view.createdAt,
    replyTo: view.reply?.messageId ?? null,
    isBot,
    mentioned,
    chatName: chatName(view.place, view.author.name),
    chatKind: direct ? 'direct' : 'group',
  };
  return { inbound, attachments: view.attachments };
}
