/**
 * A fake of Slack on 127.0.0.1, speaking the wire protocols the real libraries (Bolt, the Web
 * API client, the Socket Mode client) speak, so the adapter runs unmodified against it.
 *
 * - Web API: `POST /api/<method>` with a form-encoded, multipart or JSON body and the token as a
 *   Bearer header; answers `{ok: true, …}` or `{ok: false, error}` with 200, or a 429 with
 *   `Retry-After`. Methods: auth.test, apps.connections.open (app token), chat.postMessage,
 *   conversations.history / replies / info (with message metadata), conversations.open, users.info,
 *   files.getUploadURLExternal, files.completeUploadExternal. Unknown methods: `unknown_method`.
 * - File upload URLs (`POST /upload/<file id>`) and private file downloads
 *   (`GET /files/<id>/<name>`, bot token required, optional delay).
 * - Socket Mode: the URL from apps.connections.open is a WebSocket (`/link`) that says `hello`,
 *   carries `events_api` envelopes, and records the client's acknowledgements by envelope id.
 * - HTTP Events API: `postSignedEvent` sends an `event_callback` to a receiver with the
 *   `X-Slack-Signature` / `X-Slack-Request-Timestamp` headers (or a wrong signature).
 *
 * - Connection loss: `dropSockets` (no close handshake) and `recycle` (Slack's `disconnect`
 *   message asking the client to reconnect).
 *
 * The workspace data and the Web API method answers live in `slack-workspace.ts`.
 * - Interactivity: `pressButton` sends a `block_actions` payload for a button under a post (an
 *   `interactive` envelope over Socket Mode, or, given a URL and secret, a signed form POST with
 *   a `payload` field as Slack sends to the Interactivity Request URL); chat.update and
 *   chat.postEphemeral are recorded on the post and in `ephemerals`.
 * Not faked: OAuth installs, response_url, Block Kit validation, real rate-limit tiers (a
 * failure is scripted with `failNext`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { WebSocketServer, type WebSocket } from 'ws';
import { SlackWorkspace, type FakePost } from './slack-workspace.js';

export type { FakeMessage, FakePost } from './slack-workspace.js';

/** A scripted failure: a 429, a platform error, or a call carried out whose answer is lost. */
export type Failure = { status: 429; retryAfter: number } | { error: string } | { lose: true };

export interface Envelope {
  id: string;
  acked: Promise<void>;
  ack: () => void;
}

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export class FakeSlack extends SlackWorkspace {
  /** Like Slack, send the bot's own posts back as message events (the adapter must ignore them). */
  echoOwnPosts = true;
  /** Envelopes of those echoes, to await their acknowledgement. */
  readonly echoes: Envelope[] = [];
  /** Milliseconds a file download waits before answering. */
  downloadDelayMs = 0;
  /** Socket Mode connections accepted so far. */
  socketsOpened = 0;
  private readonly failures = new Map<string, Failure[]>();
  private readonly envelopes = new Map<string, Envelope>();
  private readonly sockets = new Set<WebSocket>();
  private readonly socketWaiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly wss: WebSocketServer;

  private constructor(private readonly server: Server) {
    super();
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  static async start(): Promise<FakeSlack> {
    const holder: { fake?: FakeSlack } = {};
    const server = createServer((req, res) => {
      holder
        .fake!.handle(req, res)
        .catch((err: unknown) => json(res, 500, { ok: false, error: String(err) }));
    });
    const fake = (holder.fake = new FakeSlack(server));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return fake;
  }

  protected onPost(post: FakePost): void {
    if (!this.echoOwnPosts || !this.sockets.size) return;
    const echo = {
      type: 'message',
      channel: post.channel,
      user: this.botUserId,
      bot_id: this.botId,
      text: post.text,
      ts: post.ts,
    };
    this.echoes.push(
      this.sendEvent(post.thread_ts ? { ...echo, thread_ts: post.thread_ts } : echo),
    );
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** The next call of `method` fails this way (queued; one failure per call). */
  failNext(method: string, failure: Failure): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), failure]);
  }

  /** Resolves once `n` Socket Mode connections were opened in total. */
  waitForSockets(n: number): Promise<void> {
    if (this.socketsOpened >= n) return Promise.resolve();
    return new Promise((resolve) => this.socketWaiters.push({ n, resolve }));
  }

  /** Drops every open socket without a close handshake (a network failure). */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }

  /** Asks every client to reconnect, as Slack does before recycling a connection. */
  recycle(): void {
    for (const ws of this.sockets)
      ws.send(
        JSON.stringify({
          type: 'disconnect',
          reason: 'refresh_requested',
          debug_info: { host: 'fake-slack' },
        }),
      );
  }

  /** A new envelope on the newest socket, waiting for its ack. */
  private openEnvelope() {
    const ws = [...this.sockets].at(-1);
    if (!ws) throw new Error('no Socket Mode connection');
    const id = randomUUID();
    let ack!: () => void;
    const acked = new Promise<void>((r) => (ack = r));
    const env: Envelope = { id, acked, ack };
    this.envelopes.set(id, env);
    return { ws, env, id };
  }

  /** Sends an `events_api` envelope on the newest socket; resolves with its ack promise. */
  sendEvent(event: Record<string, unknown>, opts: { retryAttempt?: number } = {}): Envelope {
    const { ws, env, id } = this.openEnvelope();
    ws.send(
      JSON.stringify({
        envelope_id: id,
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: opts.retryAttempt ?? 0,
        retry_reason: opts.retryAttempt ? 'timeout' : '',
        payload: this.callback(event),
      }),
    );
    return env;
  }

  /**
   * A user presses the button `actionId` under `post`: over the newest socket (resolves with
   * the envelope, whose ack can be awaited), or to an HTTP receiver when `http` is given.
   */
  pressButton(
    post: FakePost,
    user: string,
    actionId: string,
    http?: { url: string; secret: string },
  ): Envelope | Promise<Response> {
    const payload = {
      type: 'block_actions',
      user: { id: user, username: this.users.get(user)?.toLowerCase() ?? user, team_id: 'T1' },
      api_app_id: 'A1',
      token: 'verification-token',
      container: {
        type: 'message',
        message_ts: post.ts,
        channel_id: post.channel,
        is_ephemeral: false,
        ...(post.thread_ts ? { thread_ts: post.thread_ts } : {}),
      },
      trigger_id: `${++this.seq}.trigger`,
      team: { id: 'T1', domain: 'fake' },
      channel: { id: post.channel, name: 'channel' },
      message: {
        type: 'message',
        ts: post.ts,
        text: post.text,
        user: this.botUserId,
        bot_id: this.botId,
        ...(post.thread_ts ? { thread_ts: post.thread_ts } : {}),
        blocks: post.blocks ?? [],
      },
      response_url: `http://127.0.0.1:${this.port}/actions/${this.seq}`,
      actions: [
        {
          action_id: actionId,
          block_id: 'b',
          type: 'button',
          value: actionId,
          text: { type: 'plain_text', text: actionId },
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    if (http) {
      const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      const timestamp = Math.floor(Date.now() / 1000).toString();
      const mac = createHmac('sha256', http.secret).update(`v0:${timestamp}:${body}`).digest('hex');
      return fetch(http.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': `v0=${mac}`,
        },
        body,
      });
    }
    const { ws, env, id } = this.openEnvelope();
    ws.send(
      JSON.stringify({
        envelope_id: id,
        type: 'interactive',
        accepts_response_payload: true,
        payload,
      }),
    );
    return env;
  }

  /** POSTs an event_callback to an HTTP receiver, signed with `secret` (or wrongly). */
  async postSignedEvent(
    url: string,
    event: Record<string, unknown>,
    secret: string,
    opts: { badSignature?: boolean } = {},
  ): Promise<Response> {
    const body = JSON.stringify(this.callback(event));
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const mac = createHmac('sha256', opts.badSignature ? `${secret}-wrong` : secret)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex');
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': `v0=${mac}`,
      },
      body,
    });
  }

  async close(): Promise<void> {
    this.dropSockets();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private callback(event: Record<string, unknown>) {
    return {
      token: 'verification-token',
      team_id: 'T1',
      api_app_id: 'A1',
      event: { event_ts: event.ts, ...event },
      type: 'event_callback',
      event_id: `Ev${++this.seq}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T1', user_id: this.botUserId, is_bot: true }],
    };
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    this.socketsOpened++;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string };
      if (msg.envelope_id) this.envelopes.get(msg.envelope_id)?.ack();
    });
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'fake-slack', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A1' },
      }),
    );
    for (const w of this.socketWaiters.filter((w) => this.socketsOpened >= w.n)) w.resolve();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const file = this.files.get(url.pathname.split('/')[2] ?? '');
      if (auth !== `Bearer ${this.botToken}`) return json(res, 403, { ok: false });
      if (!file) return json(res, 404, { ok: false });
      if (this.downloadDelayMs) await new Promise((r) => setTimeout(r, this.downloadDelayMs));
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': file.data.length });
      res.end(file.data);
      return;
    }
    const raw = await readBody(req);
    if (url.pathname.startsWith('/upload/')) {
      const id = url.pathname.split('/')[2]!;
      const form = await new Request('http://x', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body: raw,
      }).formData();
      const part = form.get('body') ?? form.get('file');
      const data =
        part instanceof Blob ? Buffer.from(await part.arrayBuffer()) : Buffer.from(String(part));
      const pending = this.uploads.find((u) => u.id === id);
      if (pending) pending.data = data;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${data.length}`);
      return;
    }
    if (!url.pathname.startsWith('/api/')) return json(res, 404, { ok: false, error: 'not_found' });
    const method = url.pathname.slice('/api/'.length);
    const args = await this.parseArgs(req, raw);
    this.calls.push({ method, args, at: Date.now() });
    const failure = this.failures.get(method)?.shift();
    if (failure && 'status' in failure)
      return json(
        res,
        429,
        { ok: false, error: 'ratelimited' },
        { 'retry-after': String(failure.retryAfter) },
      );
    if (failure && 'error' in failure) return json(res, 200, { ok: false, error: failure.error });
    const wanted = method === 'apps.connections.open' ? this.appToken : this.botToken;
    if (auth !== `Bearer ${wanted}`) return json(res, 200, { ok: false, error: 'invalid_auth' });
    const answer = this.answer(method, args);
    if (failure) return void res.socket?.destroy();
    json(res, 200, answer);
    this.answered(method);
  }

  private async parseArgs(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
    const type = req.headers['content-type'] ?? '';
    let args: Record<string, unknown> = {};
    if (type.includes('application/json')) args = JSON.parse(raw.toString() || '{}');
    else if (type.includes('multipart/form-data')) {
      const form = await new Request('http://x', {
        method: 'POST',
        headers: { 'content-type': type },
        body: raw,
      }).formData();
      for (const [k, v] of form) args[k] = typeof v === 'string' ? v : '[binary]';
    } else args = parseQuery(raw.toString()) as Record<string, unknown>;
    for (const k of ['metadata', 'files', 'blocks']) {
      if (typeof args[k] === 'string') args[k] = JSON.parse(args[k] as string);
    }
    return args;
  }
}
