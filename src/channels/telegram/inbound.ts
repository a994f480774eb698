import type { Message, MessageEntity, User } from 'grammy/types';
import type { Inbound } from '../channel.js';

/** Who the bot is (from getMe): its own messages are skipped, its @username is a mention. */
export interface BotIdentity {
  id: number;
  username: string;
}

/** A file of an inbound message, to be downloaded with getFile (within the size cap). */
export interface FileRef {
  fileId: string;
  /** A display name (the platform's file name, or a made-up one); never used as a path. */
  name: string;
  mime?: string;
  /** As announced by Telegram; absent for some files. */
  size?: number;
}

/**
 * A Telegram message mapped for the router, or the reason it is not passed on. `inbound` has no
 * attachments yet: the adapter downloads `files` and adds them (or a note) before storing.
 */
export type MappedMessage =
  { kind: 'message'; inbound: Inbound; files: FileRef[] } | { kind: 'skip'; reason: string };

const QUOTE_MAX = 200;

/**
 * `tg:<chat id>`, or `tg:<chat id>/<topic id>` for a message in a forum topic (each topic is
 * its own conversation: replies must carry the topic to land in it).
 */
export function chatIdOf(msg: Pick<Message, 'chat' | 'is_topic_message' | 'message_thread_id'>) {
  const topic = msg.is_topic_message ? msg.message_thread_id : undefined;
  return topic ? `tg:${msg.chat.id}/${topic}` : `tg:${msg.chat.id}`;
}

/** The inverse of `chatIdOf`; undefined for anything that is not a Telegram chat id. */
export function parseChatId(jid: string): { chatId: number; threadId?: number } | undefined {
  const m = /^tg:(-?\d{1,20})(?:\/(\d{1,12}))?$/.exec(jid);
  if (!m) return undefined;
  const chatId = Number(m[1]);
  if (!Number.isSafeInteger(chatId)) return undefined;
  return m[2] ? { chatId, threadId: Number(m[2]) } : { chatId };
}

export function displayName(user: Pick<User, 'first_name' | 'last_name' | 'username'>): string {
  const full = [user.first_name, user.last_name].filter(Boolean).join(' ').trim();
  return full || (user.username ? `@${user.username}` : 'unknown');
}

/**
 * Maps one message. The sender is `tg:<user id>` (or `tg:<chat id>` for an anonymous admin or a
 * channel), the form a group's sender allowlist uses. Rules: the bot's own messages are skipped; other bots' are passed with
 * `isBot` (kept, never prompted); a private chat always counts as addressing the bot; in groups
 * an `@username` mention, a text mention, a `/command@username` or a reply to one of the bot's
 * messages does. A reply adds `replyTo` and one quote line after the text (after, so a trigger
 * word stays at the start). Service messages (joins, pins, topic changes…) are skipped.
 */
export function mapMessage(msg: Message, me: BotIdentity): MappedMessage {
  if (msg.from?.id === me.id) return { kind: 'skip', reason: 'sent by this bot' };
  if (msg.migrate_to_chat_id) return { kind: 'skip', reason: 'group upgraded to a supergroup' };
  const body = msg.text ?? msg.caption ?? '';
  const entities = msg.entities ?? msg.caption_entities ?? [];
  const files = filesOf(msg);
  const extras = describeExtras(msg, files.length > 0);
  if (!body && !files.length && !extras.length)
    return { kind: 'skip', reason: 'no content (service message)' };
  const reply = realReply(msg);
  const text = [body, ...extras, reply ? quoteLine(msg, reply) : ''].filter(Boolean).join('\n');
  const chat = msg.chat;
  const direct = chat.type === 'private';
  const chatName = chat.type === 'private' ? displayName(chat) : (chat.title ?? null);
  const senderChat = msg.sender_chat;
  const mentioned = direct || mentionsBot(body, entities, me) || reply?.from?.id === me.id;
  return {
    kind: 'message',
    files,
    inbound: {
      chatId: chatIdOf(msg),
      platformId: String(msg.message_id),
      sender: `tg:${senderChat?.id ?? msg.from?.id ?? msg.chat.id}`,
      senderName: senderChat ? (senderChat.title ?? null) : msg.from ? displayName(msg.from) : null,
      text,
      ts: msg.date * 1000,
      replyTo: reply ? String(reply.message_id) : null,
      isBot: !senderChat && msg.from?.is_bot === true ? true : undefined,
      mentioned,
      chatName,
      chatKind: direct ? 'direct' : 'group',
    },
  };
}

/** Whether the text addresses the bot by name (entities as Telegram sent them, UTF-16 offsets). */
export function mentionsBot(text: string, entities: MessageEntity[], me: BotIdentity): boolean {
  const handle = `@${me.username}`.toLowerCase();
  for (const e of entities) {
    const part = text.slice(e.offset, e.offset + e.length).toLowerCase();
    if (e.type === 'mention' && part === handle) return true;
    if (e.type === 'text_mention' && e.user.id === me.id) return true;
    if (e.type === 'bot_command' && part.endsWith(handle)) return true;
  }
  const start = text.trimStart().toLowerCase();
  return start.startsWith(handle) && !/\w/.test(start.charAt(handle.length));
}

/**
 * The message this one replies to, if it is a real reply: in forum topics every message carries
 * the topic's creation message as `reply_to_message`, which is not a reply.
 */
function realReply(msg: Message): Message | undefined {
  const r = msg.reply_to_message;
  if (!r || r.forum_topic_created) return undefined;
  if (msg.is_topic_message && r.message_id === msg.message_thread_id) return undefined;
  return r as Message;
}

function quoteLine(msg: Message, reply: Message): string {
  const who = reply.sender_chat?.title ?? (reply.from ? displayName(reply.from) : 'someone');
  const quoted = msg.quote?.text ?? reply.text ?? reply.caption ?? describeKind(reply) ?? '';
  let snippet = quoted.replace(/\s+/g, ' ').trim();
  if (snippet.length > QUOTE_MAX) snippet = `${snippet.slice(0, QUOTE_MAX - 1)}…`;
  return `> ${who}: ${snippet}`;
}

/** Short lines for content that is not text or a downloadable file. */
function describeExtras(msg: Message, hasFiles: boolean): string[] {
  const out: string[] = [];
  const kind = hasFiles ? undefined : describeKind(msg);
  if (kind) out.push(kind);
  const origin = msg.forward_origin;
  if (origin) {
    const from =
      origin.type === 'user'
        ? displayName(origin.sender_user)
        : origin.type === 'hidden_user'
          ? origin.sender_user_name
          : origin.type === 'chat'
            ? (origin.sender_chat.title ?? 'a chat')
            : (origin.chat.title ?? 'a channel');
    out.push(`[forwarded from ${from}]`);
  }
  return out;
}

function describeKind(msg: Message): string | undefined {
  if (msg.sticker) return `[sticker ${msg.sticker.emoji ?? ''}]`.replace(' ]', ']');
  if (msg.location)
    return `[location ${msg.location.latitude.toFixed(5)}, ${msg.location.longitude.toFixed(5)}]`;
  if (msg.contact) return `[contact ${msg.contact.first_name} ${msg.contact.phone_number}]`;
  if (msg.poll) return `[poll: ${msg.poll.question}]`;
  if (msg.photo) return '[photo]';
  if (msg.voice) return '[voice note]';
  if (msg.document) return `[document ${msg.document.file_name ?? ''}]`.replace(' ]', ']');
  return undefined;
}

/** The downloadable files of a message: photo (largest size), document, voice, audio, video. */
export function filesOf(msg: Message): FileRef[] {
  const id = msg.message_id;
  if (msg.photo?.length) {
    const best = msg.photo[msg.photo.length - 1]!;
    return [
      { fileId: best.file_id, name: `photo-${id}.jpg`, mime: 'image/jpeg', size: best.file_size },
    ];
  }
  // An animation also arrives as `document` (for old clients); take it once.
  const doc = msg.animation ?? msg.document;
  if (doc)
    return [
      {
        fileId: doc.file_id,
        name: doc.file_name ?? `document-${id}`,
        mime: doc.mime_type,
        size: doc.file_size,
      },
    ];
  if (msg.voice)
    return [
      {
        fileId: msg.voice.file_id,
        name: `voice-${id}.ogg`,
        mime: msg.voice.mime_type ?? 'audio/ogg',
        size: msg.voice.file_size,
      },
    ];
  if (msg.audio)
    return [
      {
        fileId: msg.audio.file_id,
        name: msg.audio.file_name ?? `audio-${id}.mp3`,
        mime: msg.audio.mime_type,
        size: msg.audio.file_size,
      },
    ];
  if (msg.video)
    return [
      {
        fileId: msg.video.file_id,
        name: msg.video.file_name ?? `video-${id}.mp4`,
        mime: msg.video.mime_type,
        size: msg.video.file_size,
      },
    ];
  if (msg.video_note)
    return [
      {
        fileId: msg.video_note.file_id,
        name: `video-note-${id}.mp4`,
        mime: 'video/mp4',
        size: msg.video_note.file_size,
      },
    ];
  return [];
}
