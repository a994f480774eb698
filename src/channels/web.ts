import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { chatIdSchema } from '../store/chat-id.js';
import { apiError } from '../http/errors.js';
import type {
  Channel,
  ChannelFactory,
  ChannelHealth,
  ChannelRoutes,
  InboundSink,
} from './channel.js';

/** `channels.web` in config.yaml: the web chat and `POST /api/messages` (on unless false). */
export const webSettings = z.strictObject({ enabled: z.boolean().default(true) }).optional();

const attachmentSchema = z.strictObject({
  name: z.string().min(1).max(255),
  mime: z.string().max(100).optional(),
  /** The file's bytes, base64 (the whole request stays under the 1 MiB body limit). */
  data: z.base64().max(1_400_000),
});
const postMessageSchema = z.strictObject({
  chat: chatIdSchema,
  text: z.string().max(100_000),
  attachments: z.array(attachmentSchema).max(10).optional(),
  sender: z.string().min(1).max(200).optional(),
  /** Client-chosen id: re-posting the same id stores the message once. */
  id: z.string().min(1).max(200).optional(),
});

/**
 * `POST /api/messages` (behind the API token): stores a message as the owner in any chat and
 * routes it; the web chat page, `clawpod chat` and `clawpod send` post here.
 */
function messageRoutes(sink: () => InboundSink | undefined, accepting: () => boolean): Hono {
  const routes = new Hono();
  routes.post('/messages', async (c: Context) => {
    const to = sink();
    if (!accepting() || !to)
      return apiError(
        c,
        503,
        'stopping',
        'the daemon is starting or shutting down; try again in a moment',
      );
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, 400, 'invalid_json', 'the request body must be JSON');
    }
    const parsed = postMessageSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return apiError(
        c,
        400,
        'invalid_body',
        `${i.path.map(String).join('.') || 'body'}: ${i.message}`,
      );
    }
    const { chat, text, sender, id, attachments } = parsed.data;
    if (!text.trim() && !attachments?.length)
      return apiError(c, 400, 'invalid_body', 'text: a message needs text or an attachment');
    const res = await to.receive({
      chatId: chat,
      platformId: id ?? `api-${crypto.randomUUID()}`,
      sender: sender ?? 'owner',
      senderName: sender ?? 'Owner',
      text,
      ts: Date.now(),
      chatKind: chat.startsWith('web:') ? 'direct' : undefined,
      attachments: attachments?.map((a) => ({
        name: a.name,
        mime: a.mime,
        data: Buffer.from(a.data, 'base64'),
      })),
    });
    // `wakes` and, when false, `quiet` (why not) let a client say at once that nothing will answer.
    return c.json(
      { seq: res.seq, duplicate: res.duplicate, wakes: res.wakes, quiet: res.quiet ?? null },
      202,
    );
  });
  return routes;
}

/**
 * The built-in web channel: chats `web:<name>`, fed by `POST /api/messages` (its route), the
 * dashboard chat page and `clawpod chat`. Delivery is the outbox recording the reply in the
 * message log, which the page and CLI read live over SSE; so `send` only confirms.
 */
export function createWebChannel(opts: { accepting?: () => boolean } = {}): Channel {
  const health: ChannelHealth = { connected: false, lastError: null, lastEventAt: null };
  let sink: InboundSink | undefined;
  const accepting = opts.accepting ?? (() => true);
  return {
    name: 'web',
    limits: { maxMessageLength: 100_000 },
    owns: (chat) => chat.startsWith('web:'),
    async connect(to) {
      sink = to;
      health.connected = true;
    },
    async disconnect() {
      health.connected = false;
    },
    async send(_chat, _text, { idemKey }) {
      health.lastEventAt = Date.now();
      return { platformId: `web-${idemKey}` };
    },
    health: () => ({ ...health }),
    routes: (): ChannelRoutes => ({ api: messageRoutes(() => sink, accepting) }),
  };
}

export const webChannel: ChannelFactory<'web', typeof webSettings> = {
  name: 'web',
  settings: webSettings,
  create: ({ settings, accepting }) =>
    settings?.enabled === false ? { skip: 'disabled in config' } : createWebChannel({ accepting }),
};
