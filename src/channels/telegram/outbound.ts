import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { GrammyError, InputFile, type Api } from 'grammy';
import type { Logger } from 'pino';
import { DeliveryError, type MessageAction, type OutboundFile } from '../channel.js';
import { inlineKeyboard } from './buttons.js';
import { isFormattingError } from './errors.js';
import { markdownToTelegramHtml } from './format.js';

/** Where a message goes: a chat, and a forum topic within it. */
export interface Target {
  chatId: number;
  threadId?: number;
}

const PHOTO_EXTS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
/** Telegram's limit for sendPhoto; larger images go as documents. */
const PHOTO_MAX_BYTES = 10 * 1024 * 1024;

function common(target: Target, replyTo?: string | null) {
  const replyId = replyTo && /^\d+$/.test(replyTo) ? Number(replyTo) : undefined;
  return {
    message_thread_id: target.threadId,
    // A reply to a deleted message is sent as a plain message instead of failing.
    reply_parameters:
      replyId !== undefined
        ? { message_id: replyId, allow_sending_without_reply: true }
        : undefined,
  };
}

/**
 * Sends one text piece as Telegram HTML (converted from Markdown); when Telegram refuses the
 * formatting (400 "can't parse entities"), sends the original text once more without
 * formatting. `actions` go under it as an inline keyboard. Returns the message id. Other errors are thrown as grammY raised them.
 */
export async function sendText(
  api: Api,
  log: Logger,
  target: Target,
  text: string,
  replyTo?: string | null,
  actions?: readonly MessageAction[],
): Promise<number> {
  const opts = {
    ...common(target, replyTo),
    ...(actions?.length ? { reply_markup: inlineKeyboard(actions) } : {}),
  };
  try {
    const sent = await api.sendMessage(target.chatId, markdownToTelegramHtml(text), {
      ...opts,
      parse_mode: 'HTML',
    });
    return sent.message_id;
  } catch (err) {
    if (!isFormattingError(err)) throw err;
    log.warn(
      { chat: target.chatId, reason: (err as GrammyError).description },
      'Telegram refused the formatting; sending as plain text',
    );
    const sent = await api.sendMessage(target.chatId, text, opts);
    return sent.message_id;
  }
}

/**
 * Uploads one file: images up to 10 MB as a photo (shown inline), anything else, or a photo
 * Telegram refuses (dimensions, format), as a document. A missing file is a permanent failure.
 */
export async function sendFile(api: Api, target: Target, file: OutboundFile): Promise<number> {
  const size = await stat(file.path).then(
    (s) => s.size,
    () => {
      throw new DeliveryError(`file to upload is gone: ${file.name}`, { permanent: true });
    },
  );
  const opts = common(target);
  if (PHOTO_EXTS.has(extname(file.name).toLowerCase()) && size <= PHOTO_MAX_BYTES) {
    try {
      return (await api.sendPhoto(target.chatId, new InputFile(file.path, file.name), opts))
        .message_id;
    } catch (err) {
      if (!(err instanceof GrammyError && err.error_code === 400)) throw err;
    }
  }
  return (await api.sendDocument(target.chatId, new InputFile(file.path, file.name), opts))
    .message_id;
}
