/**
 * A fake Telegram Bot API on 127.0.0.1, speaking the real wire protocol to the real grammY
 * client (`client: { apiRoot: fake.apiRoot }`).
 *
 * - `POST /bot<token>/<method>` with a JSON or multipart/form-data body (as grammY sends it);
 *   answers `{ok: true, result}` or `{ok: false, error_code, description, parameters?}`. A wrong
 *   token gets 401 "Unauthorized", an unknown method 404 "Not Found".
 * - getMe, deleteWebhook, setWebhook (records url + secret), getWebhookInfo.
 * - getUpdates: long polling with Telegram's offset rule (an update is forgotten once a later
 *   call passes an offset beyond it). With nothing queued the request is held until an update
 *   arrives or `timeout` (capped by `maxHoldMs`) passes; a held request whose client goes away
 *   is dropped on the response's close (or a stopping bot would hang). A second poll while one
 *   is held answers the held one 409 "Conflict: terminated by other getUpdates request", as
 *   Telegram does; `conflicts` counts them.
 * - sendMessage validates `parse_mode: HTML` like Telegram (allowed tags, nesting, entities;
 *   400 "can't parse entities: …") and the 4,096-character limit on the visible text.
 * - sendPhoto/sendDocument (multipart uploads), sendChatAction, getFile and
 *   `GET /file/bot<token>/<path>` for files added with `addFile`.
 * - `failNext(method, error)` answers the next call(s) with an error (429 with
 *   `parameters.retry_after`, 400, …); `dropPolls()` cuts held getUpdates connections.
 * - Inline keyboards: `reply_markup` on sendMessage is kept on the sent message;
 *   `pushCallbackQuery` queues a `callback_query` update for a button under a sent message
 *   (Telegram's shape: id, from, message, chat_instance, data); answerCallbackQuery is recorded
 *   in `callbackAnswers` (a query answered twice gets 400 "query is too old", as Telegram);
 *   editMessageText replaces a sent message's text and keyboard (no reply_markup: none), 400
 *   "message is not modified" when nothing changes, 400 "message to edit not found".
 * - `postWebhook(update)` delivers an update the way Telegram does in webhook mode.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Chat, Message, Update, User } from 'grammy/types';
import { autoEntities, parseMultipart, parseTelegramHtml, readBody } from './telegram-wire.js';

export { parseTelegramHtml } from './telegram-wire.js';

export interface ApiError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Uploaded files by field (multipart). */
  files: Record<string, { filename: string; data: Buffer }>;
  at: number;
  /** What the fake answered. */
  ok: boolean;
  error?: ApiError;
}

/** A message the bot posted (sendMessage/sendPhoto/sendDocument that succeeded). */
export interface SentMessage {
  method: string;
  messageId: number;
  chatId: number;
  threadId?: number;
  text?: string;
  parseMode?: string;
  /** The visible text after HTML parsing (what a user sees). */
  visible?: string;
  replyTo?: number;
  file?: { filename: string; data: Buffer };
  /** The inline keyboard under it (as sent, or as last edited). */
  replyMarkup?: { inline_keyboard: Array<Array<{ text: string; callback_data?: string }>> };
  /** Texts it was edited to (editMessageText), oldest first. */
  edits?: string[];
  at: number;
}

/** An answerCallbackQuery the bot made. */
export interface CallbackAnswer {
  queryId: string;
  text?: string;
}

export interface FakeTelegram {
  readonly apiRoot: string;
  readonly token: string;
  readonly bot: User & { username: string };
  readonly calls: ApiCall[];
  readonly sent: SentMessage[];
  readonly webhook: { url: string; secretToken?: string } | undefined;
  /** Held getUpdates answered 409 because another poll arrived. */
  readonly conflicts: number;
  /** Every sendMessage with a parse_mode is refused with 400 "can't parse entities". */
  rejectFormatting: boolean;
  /** Queues an update; returns its update_id. */
  pushUpdate(update: Omit<Update, 'update_id'>): number;
  readonly callbackAnswers: CallbackAnswer[];
  /** Queues a press of a button under a sent message; returns the callback query's id. */
  pushCallbackQuery(input: { from: User; messageId: number; data: string }): string;
  /** Queues a `message` update (message_id and date filled in); returns the message. */
  pushMessage(msg: MessageInput): Message;
  failNext(method: string, error: ApiError, times?: number): void;
  addFile(fileId: string, data: Buffer, filePath?: string): void;
  /** Destroys the held getUpdates connection(s), as a network cut would. Returns how many. */
  dropPolls(): number;
  /** Resolves once a getUpdates request is being held (the bot is waiting for updates). */
  whenPollHeld(): Promise<void>;
  /** Resolves with the first call (already made or future) matching `pred`. */
  waitForCall(pred: (c: ApiCall) => boolean, timeoutMs?: number): Promise<ApiCall>;
  postWebhook(update: Omit<Update, 'update_id'>, url?: string): Promise<number>;
  close(): Promise<void>;
}

/** The fields a test gives for a message; the fake fills in id, date and mention entities. */
export type MessageInput = Partial<Omit<Message, 'chat'>> & { chat: Chat };

export async function startFakeTelegram(
  opts: { token?: string; username?: string; maxHoldMs?: number } = {},
): Promise<FakeTelegram> {
  const token = opts.token ?? '123456789:AAFakeTokenForTestsOnly_abcdefghijkl';
  const bot = {
    id: 987654321,
    is_bot: true as const,
    first_name: 'Clawpod',
    username: opts.username ?? 'clawpod_test_bot',
  };
  const maxHoldMs = opts.maxHoldMs ?? 2000;
  const calls: ApiCall[] = [];
  const sent: SentMessage[] = [];
  const pending: Update[] = [];
  const failures = new Map<string, ApiError[]>();
  const fileStore = new Map<string, { data: Buffer; path: string }>();
  const watchers: Array<{ pred: (c: ApiCall) => boolean; resolve: (c: ApiCall) => void }> = [];
  let nextUpdate = 1;
  let nextMessage = 5000;
  let waiter:
    { res: ServerResponse; offset: number; limit: number; timer: NodeJS.Timeout } | undefined;
  let webhook: FakeTelegram['webhook'];
  let conflicts = 0;
  const heldWatchers: Array<() => void> = [];
  let rejectFormatting = false;
  const callbackAnswers: CallbackAnswer[] = [];
  const openQueries = new Set<string>();
  let nextQuery = 1;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const record = (call: ApiCall) => {
    calls.push(call);
    for (const w of [...watchers]) {
      if (w.pred(call)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(call);
      }
    }
  };
  const ready = (offset: number, limit: number) =>
    pending.filter((u) => u.update_id >= offset).slice(0, limit);
  const flush = () => {
    if (!waiter) return;
    const w = waiter;
    waiter = undefined;
    clearTimeout(w.timer);
    json(w.res, 200, { ok: true, result: ready(w.offset, w.limit) });
  };
  const chatOf = (id: number): Chat =>
    id < 0
      ? { id, type: 'supergroup', title: 'group' }
      : { id, type: 'private', first_name: 'user' };

  function sendResult(
    method: string,
    p: Record<string, unknown>,
    files: ApiCall['files'],
  ): { result: unknown } | { error: ApiError } {
    const chatId = Number(p.chat_id);
    const threadId = p.message_thread_id === undefined ? undefined : Number(p.message_thread_id);
    const replyTo = (p.reply_parameters as { message_id?: number } | undefined)?.message_id;
    const base = { messageId: ++nextMessage, chatId, threadId, replyTo, at: Date.now() };
    const message = {
      message_id: base.messageId,
      date: Math.floor(Date.now() / 1000),
      chat: chatOf(chatId),
      message_thread_id: threadId,
      from: bot,
    };
    if (method === 'sendMessage') {
      const text = String(p.text ?? '');
      const parseMode = p.parse_mode as string | undefined;
      let visible = text;
      if (parseMode) {
        if (rejectFormatting)
          return {
            error: {
              error_code: 400,
              description:
                'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 0',
            },
          };
        if (parseMode !== 'HTML')
          return { error: { error_code: 400, description: 'Bad Request: unsupported parse_mode' } };
        const parsed = parseTelegramHtml(text);
        if ('error' in parsed)
          return {
            error: {
              error_code: 400,
              description: `Bad Request: can't parse entities: ${parsed.error}`,
            },
          };
        visible = parsed.visible;
      }
      if (!visible.trim())
        return { error: { error_code: 400, description: 'Bad Request: message text is empty' } };
      if (visible.length > 4096)
        return { error: { error_code: 400, description: 'Bad Request: message is too long' } };
      const replyMarkup = p.reply_markup as SentMessage['replyMarkup'];
      sent.push({ ...base, method, text, parseMode, visible, replyMarkup });
      return { result: { ...message, text: visible, reply_markup: replyMarkup } };
    }
    const field = method === 'sendPhoto' ? 'photo' : 'document';
    const file = files[field];
    if (!file)
      return {
        error: { error_code: 400, description: `Bad Request: there is no ${field} in the request` },
      };
    sent.push({ ...base, method, file });
    return {
      result: {
        ...message,
        [field]:
          method === 'sendPhoto'
            ? [
                {
                  file_id: `up${base.messageId}`,
                  file_unique_id: `u${base.messageId}`,
                  width: 1,
                  height: 1,
                },
              ]
            : {
                file_id: `up${base.messageId}`,
                file_unique_id: `u${base.messageId}`,
                file_name: file.filename,
              },
      },
    };
  }

  async function handleApi(method: string, req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const type = req.headers['content-type'] ?? '';
    let params: Record<string, unknown> = {};
    let files: ApiCall['files'] = {};
    const boundary = /boundary=(.+)$/.exec(type)?.[1];
    if (boundary) ({ fields: params, files } = parseMultipart(body, boundary));
    else if (body.length) params = JSON.parse(body.toString()) as Record<string, unknown>;
    const call: ApiCall = { method, params, files, at: Date.now(), ok: true };
    const fail = failures.get(method)?.shift();
    if (fail) {
      call.ok = false;
      call.error = fail;
      record(call);
      return json(res, fail.error_code, { ok: false, ...fail });
    }
    const answer = (result: unknown) => {
      record(call);
      json(res, 200, { ok: true, result });
    };
    const refuse = (error: ApiError) => {
      call.ok = false;
      call.error = error;
      record(call);
      json(res, error.error_code, { ok: false, ...error });
    };
    switch (method) {
      case 'getMe':
        return answer({
          ...bot,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case 'deleteWebhook':
        webhook = undefined;
        return answer(true);
      case 'setWebhook':
        webhook = {
          url: String(params.url),
          secretToken: params.secret_token as string | undefined,
        };
        return answer(true);
      case 'getWebhookInfo':
        return answer({
          url: webhook?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: pending.length,
        });
      case 'sendChatAction':
        return answer(true);
      case 'getFile': {
        const f = fileStore.get(String(params.file_id));
        if (!f) return refuse({ error_code: 400, description: 'Bad Request: invalid file_id' });
        return answer({
          file_id: params.file_id,
          file_unique_id: `u-${String(params.file_id)}`,
          file_size: f.data.length,
          file_path: f.path,
        });
      }
      case 'sendMessage':
      case 'sendPhoto':
      case 'sendDocument': {
        const r = sendResult(method, params, files);
        return 'error' in r ? refuse(r.error) : answer(r.result);
      }
      case 'answerCallbackQuery': {
        const queryId = String(params.callback_query_id);
        if (!openQueries.delete(queryId))
          return refuse({
            error_code: 400,
            description:
              'Bad Request: query is too old and response timeout expired or query ID is invalid',
          });
        callbackAnswers.push({ queryId, text: params.text as string | undefined });
        return answer(true);
      }
      case 'editMessageText': {
        const target = sent.find(
          (m) => m.chatId === Number(params.chat_id) && m.messageId === Number(params.message_id),
        );
        if (!target)
          return refuse({ error_code: 400, description: 'Bad Request: message to edit not found' });
        const text = String(params.text ?? '');
        const parsed = params.parse_mode ? parseTelegramHtml(text) : { visible: text };
        if ('error' in parsed)
          return refuse({
            error_code: 400,
            description: `Bad Request: can't parse entities: ${parsed.error}`,
          });
        const markup = params.reply_markup as SentMessage['replyMarkup'];
        const sameMarkup =
          JSON.stringify(markup?.inline_keyboard ?? []) ===
          JSON.stringify(target.replyMarkup?.inline_keyboard ?? []);
        if (parsed.visible === target.visible && sameMarkup)
          return refuse({
            error_code: 400,
            description:
              'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
          });
        target.text = text;
        target.visible = parsed.visible;
        target.replyMarkup = markup?.inline_keyboard.length ? markup : undefined;
        (target.edits ??= []).push(parsed.visible);
        return answer({
          message_id: target.messageId,
          date: Math.floor(target.at / 1000),
          chat: chatOf(target.chatId),
          from: bot,
          text: parsed.visible,
          edit_date: Math.floor(Date.now() / 1000),
        });
      }
      case 'getUpdates': {
        const offset = Number(params.offset ?? 0);
        const limit = Number(params.limit ?? 100) || 100;
        const timeout = Number(params.timeout ?? 0);
        if (offset > 0) {
          for (let k = pending.length - 1; k >= 0; k--)
            if (pending[k]!.update_id < offset) pending.splice(k, 1);
        }
        if (waiter && !waiter.res.destroyed) {
          conflicts++;
          const old = waiter;
          waiter = undefined;
          clearTimeout(old.timer);
          json(old.res, 409, {
            ok: false,
            error_code: 409,
            description:
              'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
          });
        }
        record(call);
        const now = ready(offset, limit);
        if (now.length || timeout <= 0) return json(res, 200, { ok: true, result: now });
        const timer = setTimeout(flush, Math.min(timeout * 1000, maxHoldMs));
        waiter = { res, offset, limit, timer };
        for (const r of heldWatchers.splice(0)) r();
        res.on('close', () => {
          if (waiter?.res === res) {
            clearTimeout(waiter.timer);
            waiter = undefined;
          }
        });
        return;
      }
      default:
        return refuse({ error_code: 404, description: 'Not Found' });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if ((api && api[1] !== token) || (file && file[1] !== token))
      return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    if (api) {
      handleApi(api[2]!, req, res).catch((err: unknown) =>
        json(res, 500, {
          ok: false,
          error_code: 500,
          description: `Internal Server Error: ${String(err)}`,
        }),
      );
      return;
    }
    if (file && req.method === 'GET') {
      const f = [...fileStore.values()].find((x) => x.path === decodeURIComponent(file[2]!));
      if (!f) return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      res
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': f.data.length,
        })
        .end(f.data);
      return;
    }
    json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const pushUpdate = (update: Omit<Update, 'update_id'>): number => {
    const full = { ...update, update_id: nextUpdate++ } as Update;
    pending.push(full);
    if (waiter && ready(waiter.offset, waiter.limit).length) flush();
    return full.update_id;
  };

  const fake: FakeTelegram = {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    bot,
    calls,
    sent,
    get webhook() {
      return webhook;
    },
    get conflicts() {
      return conflicts;
    },
    get rejectFormatting() {
      return rejectFormatting;
    },
    set rejectFormatting(v: boolean) {
      rejectFormatting = v;
    },
    pushUpdate,
    callbackAnswers,
    pushCallbackQuery({ from, messageId, data }) {
      const m = sent.find((x) => x.messageId === messageId);
      if (!m) throw new Error(`fake Telegram: no sent message ${messageId}`);
      const id = String(7_000_000 + nextQuery++);
      openQueries.add(id);
      pushUpdate({
        callback_query: {
          id,
          from,
          chat_instance: `ci${m.chatId}`,
          data,
          message: {
            message_id: m.messageId,
            date: Math.floor(m.at / 1000),
            chat: chatOf(m.chatId),
            from: bot,
            text: m.visible ?? '',
            ...(m.replyMarkup ? { reply_markup: m.replyMarkup } : {}),
          },
        },
      } as Omit<Update, 'update_id'>);
      return id;
    },
    pushMessage(input) {
      const text = input.text ?? input.caption;
      const msg = {
        message_id: ++nextMessage,
        date: Math.floor(Date.now() / 1000),
        from: { id: 4242, is_bot: false, first_name: 'Alice' },
        ...input,
      } as Message;
      if (input.text !== undefined && !input.entities) msg.entities = autoEntities(input.text);
      if (input.caption !== undefined && !input.caption_entities && text)
        msg.caption_entities = autoEntities(text);
      pushUpdate({ message: msg } as Omit<Update, 'update_id'>);
      return msg;
    },
    failNext(method, error, times = 1) {
      const list = failures.get(method) ?? [];
      for (let k = 0; k < times; k++) list.push(error);
      failures.set(method, list);
    },
    addFile(fileId, data, filePath) {
      fileStore.set(fileId, { data, path: filePath ?? `documents/${fileId}` });
    },
    dropPolls() {
      if (!waiter) return 0;
      const w = waiter;
      waiter = undefined;
      clearTimeout(w.timer);
      w.res.socket?.destroy();
      return 1;
    },
    whenPollHeld() {
      return waiter ? Promise.resolve() : new Promise<void>((r) => heldWatchers.push(r));
    },
    waitForCall(pred, timeoutMs = 10_000) {
      const found = calls.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('fake Telegram: expected call never came')),
          timeoutMs,
        );
        watchers.push({
          pred,
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
        });
      });
    },
    async postWebhook(update, url) {
      const target = url ?? webhook?.url;
      if (!target) throw new Error('no webhook set');
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(webhook?.secretToken
            ? { 'X-Telegram-Bot-Api-Secret-Token': webhook.secretToken }
            : {}),
        },
        body: JSON.stringify({ ...update, update_id: nextUpdate++ }),
      });
      await res.arrayBuffer();
      return res.status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (waiter) clearTimeout(waiter.timer);
        waiter = undefined;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
