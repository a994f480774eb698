import type { proto, WAMessage } from '@whiskeysockets/baileys';
import type { Inbound } from '../channel.js';

/** Who the bot is, and how its own messages are recognised in self mode. */
export interface WaIdentity {
  /** The bot's user jid without device (`4915112345678@s.whatsapp.net`). */
  jid: string;
  /** The bot's LID (`…@lid`), when WhatsApp addresses it that way in groups. */
  lid?: string;
  /** Self mode: the bot shares the owner's number; its texts start with this prefix. */
  selfPrefix: string | null;
}

/** A media part worth downloading: its kind and a file name. */
export interface WaMedia {
  kind: 'image' | 'document' | 'audio' | 'video' | 'sticker';
  name: string;
  mime?: string;
}

/** `4915…:12@s.whatsapp.net` → `4915…@s.whatsapp.net` (the device suffix dropped). */
export function bareJid(jid: string): string {
  const at = jid.indexOf('@');
  if (at < 0) return jid;
  const user = jid.slice(0, at).split(':')[0]!;
  return `${user}@${jid.slice(at + 1)}`;
}

export const isGroupJid = (jid: string): boolean => jid.endsWith('@g.us');

/** `wa:<jid>` → jid, or undefined for a chat id that is not WhatsApp's. */
export function parseChatId(chatId: string): string | undefined {
  if (!chatId.startsWith('wa:')) return undefined;
  const jid = chatId.slice(3);
  return /^[^@\s]+@[a-z.]+$/.test(jid) ? jid : undefined;
}

/** The message content under the wrappers WhatsApp puts around it (ephemeral, view-once…). */
export function unwrap(m: proto.IMessage | null | undefined): proto.IMessage | undefined {
  let cur = m ?? undefined;
  for (let i = 0; i < 5 && cur; i++) {
    const inner =
      cur.ephemeralMessage?.message ??
      cur.viewOnceMessage?.message ??
      cur.viewOnceMessageV2?.message ??
      cur.documentWithCaptionMessage?.message ??
      cur.editedMessage?.message;
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

function textOf(m: proto.IMessage): string {
  return (
    m.conversation ??
    m.extendedTextMessage?.text ??
    m.imageMessage?.caption ??
    m.videoMessage?.caption ??
    m.documentMessage?.caption ??
    ''
  );
}

function contextOf(m: proto.IMessage): proto.IContextInfo | null | undefined {
  return (
    m.extendedTextMessage?.contextInfo ??
    m.imageMessage?.contextInfo ??
    m.videoMessage?.contextInfo ??
    m.documentMessage?.contextInfo ??
    m.audioMessage?.contextInfo ??
    m.stickerMessage?.contextInfo
  );
}

/** The downloadable part of a message, if any. */
export function mediaOf(m: proto.IMessage): WaMedia | undefined {
  const mime = (x: { mimetype?: string | null }) => x.mimetype ?? undefined;
  const ext = (t: string | undefined, fallback: string) =>
    t?.split('/')[1]?.split(';')[0] ?? fallback;
  if (m.imageMessage)
    return {
      kind: 'image',
      name: `image.${ext(mime(m.imageMessage), 'jpg')}`,
      mime: mime(m.imageMessage),
    };
  if (m.documentMessage)
    return {
      kind: 'document',
      name: m.documentMessage.fileName ?? 'document',
      mime: mime(m.documentMessage),
    };
  if (m.audioMessage)
    return {
      kind: 'audio',
      name: m.audioMessage.ptt ? 'voice.ogg' : `audio.${ext(mime(m.audioMessage), 'ogg')}`,
      mime: mime(m.audioMessage),
    };
  if (m.videoMessage)
    return {
      kind: 'video',
      name: `video.${ext(mime(m.videoMessage), 'mp4')}`,
      mime: mime(m.videoMessage),
    };
  return undefined;
}

/** The size the sender declared for the media part (0 when unknown), checked before download. */
export function declaredSize(m: proto.IMessage): number {
  const part = m.imageMessage ?? m.documentMessage ?? m.audioMessage ?? m.videoMessage;
  return Number(part?.fileLength ?? 0) || 0;
}

function quoteLine(ctx: proto.IContextInfo): string | null {
  const q = unwrap(ctx.quotedMessage);
  if (!q) return null;
  const text = textOf(q) || (mediaOf(q) ? `[${mediaOf(q)!.kind}]` : '');
  const who = ctx.participant ? bareJid(ctx.participant).split('@')[0] : 'someone';
  const oneLine = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return `> ${who}: ${oneLine}`;
}

/** The mapped message and the media to download, or null for what is not a chat message. */
export interface MappedMessage {
  inbound: Inbound;
  media?: WaMedia;
}

/**
 * Maps one Baileys message to an Inbound. Chats `wa:<jid>`, senders `wa:<participant or jid>`;
 * DMs and mentions of the bot's jid are triggers; the bot's own messages are `isBot` (in self
 * mode only those starting with the prefix: the rest are the owner typing on the phone).
 */
export function mapMessage(msg: WAMessage, me: WaIdentity): MappedMessage | null {
  const chat = msg.key.remoteJid;
  const id = msg.key.id;
  if (!chat || !id || chat === 'status@broadcast' || chat.endsWith('@newsletter')) return null;
  const content = unwrap(msg.message);
  if (!content || content.protocolMessage || content.reactionMessage) return null;
  const media = mediaOf(content);
  const body = textOf(content);
  if (!body && !media) return null;
  const group = isGroupJid(chat);
  const fromMe = msg.key.fromMe === true;
  const senderJid = fromMe ? me.jid : bareJid((group ? msg.key.participant : chat) ?? chat);
  const isBot = fromMe && (me.selfPrefix === null || body.startsWith(me.selfPrefix));
  const ctx = contextOf(content);
  const mentions = (ctx?.mentionedJid ?? []).map(bareJid);
  const mentioned = !group || mentions.includes(me.jid) || (!!me.lid && mentions.includes(me.lid));
  const quote = ctx ? quoteLine(ctx) : null;
  const ts = Number(msg.messageTimestamp ?? 0) * 1000 || Date.now();
  const inbound: Inbound = {
    chatId: `wa:${chat}`,
    platformId: id,
    sender: `wa:${senderJid}`,
    senderName: fromMe ? null : (msg.pushName ?? null),
    // The quote goes after the text so a trigger at the start still matches.
    text: quote ? (body ? `${body}\n${quote}` : quote) : body,
    ts,
    replyTo: ctx?.stanzaId ?? null,
    isBot,
    mentioned: !isBot && mentioned,
    chatKind: group ? 'group' : 'direct',
    chatName: group ? null : (msg.pushName ?? null),
  };
  return media ? { inbound, media } : { inbound };
}
