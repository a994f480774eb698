/**
 * Approval buttons on Telegram: an inline keyboard under the card, presses as `callback_query`
 * updates (each answered with answerCallbackQuery, whatever the outcome, so the client stops
 * its spinner), and the card edited in place once decided (the keyboard goes with the edit).
 */
import { GrammyError, type Api } from 'grammy';
import type { CallbackQuery, InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from 'pino';
import type { InboundSink, MessageAction } from '../channel.js';
import { isFormattingError } from './errors.js';
import { markdownToTelegramHtml } from './format.js';
import { chatIdOf, displayName } from './inbound.js';
import type { Target } from './outbound.js';

/** One row of buttons (Telegram caps callback_data at 64 bytes; longer ids are left out). */
export function inlineKeyboard(actions: readonly MessageAction[]): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      actions
        .filter((a) => Buffer.byteLength(a.id) <= 64)
        .map((a) => ({ text: a.label, callback_data: a.id })),
    ],
  };
}

/** The callback answer's text limit (Telegram: 0-200 characters). */
const ANSWER_MAX = 200;

/**
 * One press: handed to the sink, then answered with its text (shown as a toast). A sink that
 * fails still gets the query answered, with the reason. Never rejects.
 */
export async function answerPress(
  api: Api,
  sink: InboundSink | undefined,
  q: CallbackQuery,
  log: Logger,
): Promise<void> {
  let text: string;
  try {
    const msg = q.message;
    if (!sink?.press || !msg || q.data === undefined) text = 'This button is no longer active.';
    else
      text = (
        await sink.press({
          chatId: chatIdOf(msg as Parameters<typeof chatIdOf>[0]),
          sender: `tg:${q.from.id}`,
          senderName: displayName(q.from),
          actionId: q.data,
          platformId: String(msg.message_id),
        })
      ).text;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'Telegram button press could not be handled');
    text = `Not taken: ${(err as Error).message}`;
  }
  const short = text.length > ANSWER_MAX ? `${text.slice(0, ANSWER_MAX - 1)}…` : text;
  try {
    await api.answerCallbackQuery(q.id, { text: short });
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'Telegram callback query could not be answered');
  }
}

/**
 * Replaces a sent message's text (HTML, plain on a formatting refusal) and its keyboard with
 * none. "message is not modified" (the same edit twice) is not an error.
 */
export async function editText(
  api: Api,
  target: Target,
  messageId: number,
  text: string,
): Promise<void> {
  const none = { inline_keyboard: [] };
  try {
    try {
      await api.editMessageText(target.chatId, messageId, markdownToTelegramHtml(text), {
        parse_mode: 'HTML',
        reply_markup: none,
      });
    } catch (err) {
      if (!isFormattingError(err)) throw err;
      await api.editMessageText(target.chatId, messageId, text, { reply_markup: none });
    }
  } catch (err) {
    if (err instanceof GrammyError && /message is not modified/i.test(err.description)) return;
    throw err;
  }
}
