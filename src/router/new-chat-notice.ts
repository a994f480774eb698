import type { Inbound } from '../channels/channel.js';

/** How much of the first message the owner's notice quotes. */
const QUOTE_CHARS = 120;

/**
 * Whether a message from a chat no group is bound to should tell the owner: someone addressed
 * the bot (a direct chat, or a native mention in a group) — not an automatic message, not the
 * bot itself, and not mail (strangers' mail is routine; it stays in `clawpod chats list`).
 */
export function tellsOwnerOfNewChat(msg: Inbound): boolean {
  if (msg.isBot || msg.automatic || msg.chatId.startsWith('mail:')) return false;
  return msg.chatKind === 'direct' || Boolean(msg.mentioned);
}

/** The owner's notice about a new chat, with the commands that bind it. */
export function newChatNotice(msg: Inbound): string {
  const name = msg.chatName ? ` "${msg.chatName}"` : '';
  const flat = msg.text.replace(/\s+/g, ' ').trim();
  const quote = flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS)}…` : flat;
  return [
    `💬 A new chat wrote to the bot: ${msg.chatId}${name} — ${msg.sender}: "${quote}"`,
    'Nobody answers there until you bind it to a group:',
    `  clawpod groups bind <group> ${msg.chatId}`,
    `  clawpod groups add <name> --chat ${msg.chatId}`,
    '(or in the Control UI, Chats). You are told once per chat.',
  ].join('\n');
}
