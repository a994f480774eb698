/**
 * A fake of the parts of Discord's API the clawpod adapter uses, on 127.0.0.1, speaking the real
 * wire protocol so the REAL discord.js drives it (`rest.api` → `http://127.0.0.1:PORT/api`).
 *
 * REST (under `/api/v10`, `Authorization: Bot <token>` checked, 401 otherwise):
 * - `GET /gateway/bot` → `ws://127.0.0.1:PORT/gateway`, one shard; `GET /users/@me` → the bot;
 *   `POST /users/@me/channels` → the DM with `recipient_id`;
 * - `POST /channels/:id/messages` (JSON or multipart with `payload_json` + `files[n]`): checks the
 *   2,000-character limit and emptiness like Discord (400, code 50035 / 50006), honours `nonce` +
 *   `enforce_nonce` (a repeat within `nonceWindowMs` returns the first message), echoes the new
 *   message as MESSAGE_CREATE; scripted failures first (`failNext`: 429 with Retry-After and
 *   X-RateLimit-* headers plus a `retry_after` body, a content rejection, any status);
 * - `POST /channels/:id/typing` → 204 without a content type;
 * - `GET /channels/:id`, `GET /channels/:id/messages` (`limit`, `after`; newest first, no nonces:
 *   Discord does not keep them);
 * - `GET /attachments/:id/:name` serves files announced in messages (the "CDN").
 *
 * Gateway (`/gateway`, see discord-gateway.ts): HELLO, heartbeat ACK, IDENTIFY → READY +
 * GUILD_CREATE, RESUME → replay + RESUMED, MESSAGE_CREATE for people's and the bot's messages.
 * - Message components: `components` on a created message are kept; `pressButton` dispatches
 *   INTERACTION_CREATE (type 3, a button) for one under a bot message; the reply comes to
 *   `POST /interactions/:id/:token/callback` (no bot token: the interaction token is the
 *   credential; 204, a second answer 400 code 40060 "already been acknowledged"), recorded in
 *   `interactionReplies`; `PATCH /channels/:id/messages/:id` edits content and components.
 * Not faked: sharding, presence, voice, slash commands, message edit events,
 * reactions, guild member events, zlib transport compression, identify rate limits.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGateway } from './discord-gateway.js';
import {
  channelJson,
  contentTooLong,
  guildJson,
  messageJson,
  rateLimited,
  readyJson,
  snowflake,
  userJson,
  type FakeChannel,
  type FakeGuild,
  type FakeUser,
  type Json,
} from './discord-payloads.js';

export { snowflake, type FakeChannel, type FakeGuild, type FakeUser } from './discord-payloads.js';

export type FakeFailure =
  | { kind: 'rate-limit'; retryAfterS: number; global?: boolean }
  | { kind: 'content-rejected' }
  | { kind: 'status'; status: number; code: number; message: string };

/** One create-message request as it arrived, and what the fake answered. */
export interface PostRecord {
  channelId: string;
  body: Record<string, unknown>;
  files: Array<{ name: string; data: Buffer }>;
  status: number;
  at: number;
}

export class FakeDiscord extends EventEmitter {
  readonly server: Server;
  private readonly gateway: FakeGateway;
  readonly bot: FakeUser;
  readonly token: string;
  readonly guilds: FakeGuild[];
  readonly channels = new Map<string, FakeChannel>();
  readonly users = new Map<string, FakeUser>();
  /** Messages per channel, oldest first (as Discord stores them). */
  readonly messages = new Map<string, Json[]>();
  readonly posts: PostRecord[] = [];
  readonly typing: string[] = [];
  /** Answers to interactions (callback type and data), in arrival order. */
  readonly interactionReplies: Array<{ id: string; type: number; data: Json }> = [];
  /** Edits of messages (PATCH), in arrival order. */
  readonly edits: Array<{ channelId: string; messageId: string; body: Json }> = [];
  private readonly interactions = new Map<string, { token: string; answered: boolean }>();
  readonly failNext: FakeFailure[] = [];
  gatewayBotCalls = 0;
  /** Requests refused for a wrong token. */
  unauthorized = 0;
  /** How long Discord remembers a nonce for `enforce_nonce` ("a few minutes"). */
  nonceWindowMs = 5 * 60_000;
  private readonly nonces = new Map<string, { id: string; at: number }>();
  private readonly files = new Map<string, Buffer>();
  private port = 0;

  private constructor(opts: { token: string; bot: FakeUser; guilds: FakeGuild[] }) {
    super();
    this.token = opts.token;
    this.bot = { ...opts.bot, bot: true };
    this.guilds = opts.guilds;
    this.users.set(this.bot.id, this.bot);
    for (const g of opts.guilds)
      for (const c of g.channels) this.channels.set(c.id, { ...c, guildId: g.id });
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(err), code: 0 }));
      });
    });
    this.gateway = new FakeGateway({
      server: this.server,
      token: this.token,
      events: this,
      hello: (sessionId) => [
        { t: 'READY', d: readyJson(this.bot, this.guilds, sessionId, this.gatewayUrl) },
        ...this.guilds.map((g) => ({ t: 'GUILD_CREATE', d: guildJson(g, this.bot.id) })),
      ],
    });
  }

  /** Listens on 127.0.0.1 (`port` 0: any free port; a given port brings a "down" Discord back). */
  static async start(opts: { token: string; bot: FakeUser; guilds: FakeGuild[]; port?: number }) {
    const fake = new FakeDiscord(opts);
    await new Promise<void>((r) => fake.server.listen(opts.port ?? 0, '127.0.0.1', r));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  /** IDENTIFY payloads received (their intents). */
  get identifies(): ReadonlyArray<{ intents: number }> {
    return this.gateway.identifies;
  }

  get resumes(): number {
    return this.gateway.resumes;
  }

  get openSockets(): number {
    return this.gateway.openSockets;
  }

  /** Behave like Discord for a bot whose Message Content intent is not enabled (close 4014). */
  refusePrivilegedIntents(): void {
    this.gateway.refusePrivilegedIntents = true;
  }

  /** What `channels.discord.apiBase` should be. */
  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  addUser(user: FakeUser): FakeUser {
    this.users.set(user.id, user);
    return user;
  }

  /** A DM channel between the bot and `user`. */
  openDm(user: FakeUser): string {
    const id = snowflake();
    this.addUser(user);
    this.channels.set(id, { id, type: 1, recipient: user });
    return id;
  }

  /**
   * A person posts: the message is stored and dispatched as MESSAGE_CREATE (to live sessions,
   * and kept for the replay of disconnected ones). Mentions are read from `<@id>` in the content,
   * as Discord does; a reply mentions the replied-to author unless `pingReply` is false.
   */
  userSays(m: {
    channelId: string;
    author: FakeUser;
    content: string;
    replyTo?: string;
    pingReply?: boolean;
    attachments?: Array<{ name: string; contentType: string; data: Buffer; size?: number }>;
  }): Json {
    const channel = this.channels.get(m.channelId);
    if (!channel) throw new Error(`no channel ${m.channelId}`);
    this.addUser(m.author);
    const referenced = m.replyTo
      ? this.messages.get(m.channelId)?.find((x) => x.id === m.replyTo)
      : undefined;
    const mentioned = [...m.content.matchAll(/<@!?(\d+)>/g)]
      .map((x) => this.users.get(x[1]!))
      .filter((u): u is FakeUser => u !== undefined);
    if (referenced && m.pingReply !== false) {
      const author = this.users.get((referenced.author as { id: string }).id);
      if (author && !mentioned.includes(author)) mentioned.push(author);
    }
    const attachments = (m.attachments ?? []).map((a) => {
      const id = snowflake();
      this.files.set(`${id}/${a.name}`, a.data);
      const url = `http://127.0.0.1:${this.port}/attachments/${id}/${a.name}`;
      return {
        id,
        filename: a.name,
        size: a.size ?? a.data.length,
        url,
        proxy_url: url,
        content_type: a.contentType,
      };
    });
    const msg = messageJson(channel, m.author, m.content, {
      mentions: mentioned.map(userJson),
      attachments,
      ...(referenced
        ? {
            type: 19,
            message_reference: {
              type: 0,
              message_id: referenced.id,
              channel_id: m.channelId,
              guild_id: channel.guildId,
            },
            referenced_message: referenced,
          }
        : {}),
    });
    this.store(m.channelId, msg);
    this.gateway.dispatch('MESSAGE_CREATE', msg);
    return msg;
  }

  /** A message the bot posted earlier (e.g. just before a crash), with the nonce it carried. */
  seedBotMessage(channelId: string, content: string, nonce: string, at = Date.now()): string {
    const channel = this.channels.get(channelId)!;
    const msg = messageJson(channel, this.bot, content, { nonce });
    this.store(channelId, msg);
    this.nonces.set(nonce, { id: msg.id as string, at });
    return msg.id as string;
  }

  /**
   * `user` presses the button `customId` under the bot's message `messageId`: INTERACTION_CREATE
   * as Discord sends it. Returns the interaction id (its answer lands in `interactionReplies`).
   */
  pressButton(m: {
    channelId: string;
    messageId: string;
    user: FakeUser;
    customId: string;
  }): string {
    const channel = this.channels.get(m.channelId);
    const message = this.messagesIn(m.channelId).find((x) => x.id === m.messageId);
    if (!channel || !message) throw new Error(`no message ${m.messageId} in ${m.channelId}`);
    this.addUser(m.user);
    const id = snowflake();
    const token = `itok-${id}`;
    this.interactions.set(id, { token, answered: false });
    const guildId = channel.guildId;
    this.gateway.dispatch('INTERACTION_CREATE', {
      id,
      application_id: this.bot.id,
      type: 3,
      token,
      version: 1,
      data: { custom_id: m.customId, component_type: 2 },
      channel_id: channel.id,
      channel: channelJson(channel, this.bot.id),
      ...(guildId
        ? {
            guild_id: guildId,
            member: {
              user: userJson(m.user),
              roles: [],
              joined_at: new Date(0).toISOString(),
              deaf: false,
              mute: false,
              flags: 0,
              permissions: '2248473465835073',
            },
            guild_locale: 'en-US',
          }
        : { user: userJson(m.user) }),
      message,
      app_permissions: '2248473465835073',
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: {},
      context: guildId ? 0 : 1,
    });
    return id;
  }

  messagesIn(channelId: string): Json[] {
    return this.messages.get(channelId) ?? [];
  }

  /** Closes every gateway socket from the server side (4000: "unknown error", resumable). */
  dropConnections(code = 4000): void {
    this.gateway.dropConnections(code);
  }

  /** Resolves with the next event `name` whose payload matches `pred`. */
  next<T>(name: string, pred: (v: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve) => {
      const on = (v: T) => {
        if (!pred(v)) return;
        this.off(name, on);
        resolve(v);
      };
      this.on(name, on);
    });
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private store(channelId: string, msg: Json): void {
    const list = this.messages.get(channelId) ?? [];
    list.push(msg);
    this.messages.set(channelId, list);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await new Promise<Buffer>((resolve) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => resolve(Buffer.concat(parts)));
    });
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(data));
    };
    const file = /^\/attachments\/(\d+\/[^/]+)$/.exec(url.pathname);
    if (file) {
      const data = this.files.get(decodeURIComponent(file[1]!));
      this.emit('download', file[1]);
      if (!data) return json(404, { message: 'Not Found', code: 0 });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(data);
      return;
    }
    const callback = /^\/api\/v10\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(url.pathname);
    if (callback && req.method === 'POST') {
      const known = this.interactions.get(callback[1]!);
      if (!known || known.token !== callback[2])
        return json(401, { message: 'Invalid interaction token', code: 50027 });
      if (known.answered)
        return json(400, {
          message: 'Interaction has already been acknowledged.',
          code: 40060,
        });
      known.answered = true;
      const b = JSON.parse(body.toString() || '{}') as { type: number; data?: Json };
      this.interactionReplies.push({ id: callback[1]!, type: b.type, data: b.data ?? {} });
      this.emit('interaction-reply', callback[1]);
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.headers.authorization !== `Bot ${this.token}`) {
      this.unauthorized++;
      return json(401, { message: '401: Unauthorized', code: 0 });
    }
    const path = url.pathname.replace(/^\/api\/v10/, '');
    if (req.method === 'GET' && decodeURIComponent(path) === '/users/@me')
      return json(200, userJson(this.bot));
    if (req.method === 'POST' && decodeURIComponent(path) === '/users/@me/channels') {
      // Create DM: the existing DM with that user, or a new one (Discord answers the same).
      const recipient = String((JSON.parse(body.toString() || '{}') as Json).recipient_id ?? '');
      const user = this.users.get(recipient);
      if (!user) return json(400, { message: 'Invalid Recipient(s)', code: 50033 });
      const dm = [...this.channels.values()].find(
        (c) => c.type === 1 && c.recipient?.id === user.id,
      );
      return json(200, channelJson(dm ?? this.channels.get(this.openDm(user))!, this.bot.id));
    }
    if (req.method === 'GET' && path === '/gateway/bot') {
      this.gatewayBotCalls++;
      return json(200, {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    const edit = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (edit && req.method === 'PATCH') {
      const msg = this.messagesIn(edit[1]!).find((x) => x.id === edit[2]);
      if (!msg) return json(404, { message: 'Unknown Message', code: 10008 });
      const b = JSON.parse(body.toString() || '{}') as Json;
      if (typeof b.content === 'string') msg.content = b.content;
      if (Array.isArray(b.components)) msg.components = b.components;
      msg.edited_timestamp = new Date().toISOString();
      this.edits.push({ channelId: edit[1]!, messageId: edit[2]!, body: b });
      this.emit('edit', edit[2]);
      return json(200, msg);
    }
    const m = /^\/channels\/(\d+)(\/messages|\/typing)?$/.exec(path);
    const channel = m ? this.channels.get(m[1]!) : undefined;
    if (!m || !channel)
      return json(404, { message: m ? 'Unknown Channel' : '404: Not Found', code: m ? 10003 : 0 });
    if (req.method === 'GET' && !m[2]) return json(200, channelJson(channel, this.bot.id));
    if (req.method === 'GET' && m[2] === '/messages') {
      // Newest first, as Discord answers; `after` picks the oldest ones after that id.
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const after = url.searchParams.get('after');
      const all = this.messagesIn(channel.id);
      const page = after
        ? all.filter((x) => BigInt(x.id as string) > BigInt(after)).slice(0, limit)
        : all.slice(-limit);
      return json(
        200,
        page.reverse().map(({ nonce: _n, ...rest }) => rest),
      );
    }
    if (req.method === 'POST' && m[2] === '/typing') {
      this.typing.push(channel.id);
      this.emit('typing', channel.id);
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method === 'POST' && m[2] === '/messages')
      return this.createMessage(req, body, channel, json);
    return json(405, { message: '405: Method Not Allowed', code: 0 });
  }

  private async createMessage(
    req: IncomingMessage,
    raw: Buffer,
    channel: FakeChannel,
    json: (status: number, data: unknown, headers?: Record<string, string>) => void,
  ): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    let body: Json;
    const files: PostRecord['files'] = [];
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
      body = JSON.parse(String(form.get('payload_json') ?? '{}')) as Json;
      for (const [key, value] of form.entries())
        if (key.startsWith('files[') && typeof value !== 'string')
          files.push({ name: value.name, data: Buffer.from(await value.arrayBuffer()) });
    } else {
      body = JSON.parse(raw.toString('utf8') || '{}') as Json;
    }
    const record: PostRecord = { channelId: channel.id, body, files, status: 0, at: Date.now() };
    const answer = (status: number, data: unknown, headers?: Record<string, string>) => {
      record.status = status;
      this.posts.push(record);
      json(status, data, headers);
      this.emit('post', record);
    };
    const failure = this.failNext.shift();
    if (failure?.kind === 'rate-limit') {
      const { body: limited, headers } = rateLimited(failure.retryAfterS, failure.global ?? false);
      return answer(429, limited, headers);
    }
    const content = typeof body.content === 'string' ? body.content : '';
    if (failure?.kind === 'content-rejected' || [...content].length > 2000)
      return answer(400, contentTooLong());
    if (failure?.kind === 'status')
      return answer(failure.status, { message: failure.message, code: failure.code });
    if (!content && files.length === 0)
      return answer(400, { message: 'Cannot send an empty message', code: 50006 });
    const nonce = typeof body.nonce === 'string' ? body.nonce : undefined;
    const seen = nonce ? this.nonces.get(nonce) : undefined;
    if (
      nonce &&
      body.enforce_nonce === true &&
      seen &&
      Date.now() - seen.at <= this.nonceWindowMs
    ) {
      const original = this.messagesIn(channel.id).find((x) => x.id === seen.id);
      if (original) return answer(200, original);
    }
    const attachments = files.map((f) => ({
      id: snowflake(),
      filename: f.name,
      size: f.data.length,
    }));
    const msg = messageJson(channel, this.bot, content, {
      nonce: nonce ?? null,
      attachments,
      ...(Array.isArray(body.components) ? { components: body.components } : {}),
    });
    if (nonce) this.nonces.set(nonce, { id: msg.id as string, at: Date.now() });
    this.store(channel.id, msg);
    answer(200, msg);
    this.emit('created', msg);
    this.gateway.dispatch('MESSAGE_CREATE', msg);
  }
}
