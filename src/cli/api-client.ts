import { readFileSync } from 'node:fs';
import type { ApprovalRecord } from '../store/approvals.js';
import type { Config } from '../config/load.js';
import type { Group } from '../store/group-schema.js';
import type { DaemonStatus } from '../status.js';
import type { OutboxStatus } from '../store/outbox.js';
import type { RunRecord } from '../store/runs.js';
import type { DeadLetter } from '../store/dead-letters.js';
import type { DeadLetterDetail } from '../delivery/dead-letter-service.js';
import { ApiError, DaemonUnreachableError, errorFromBody } from './api-errors.js';
import { readDaemonAddress, urlFor } from './daemon-address.js';
import { openEventStream, type EventSubscription } from './event-stream.js';
import type { SseEvent } from './sse.js';

export { ApiError, DaemonUnreachableError } from './api-errors.js';
export type { EventSubscription } from './event-stream.js';

/** A chat message as the API returns it (`chat` only on SSE events). */
export interface ChatMessage {
  seq: number;
  chat?: string;
  direction: 'in' | 'out';
  sender: string;
  text: string;
  ts: number;
}

export interface Health {
  status: string;
  version: string;
}

/**
 * Where the daemon listens: `CLAWPOD_URL` when set, else the address the running daemon
 * recorded in `$CLAWPOD_HOME/daemon.json` (so `start --port` is remembered), else config
 * `http.host`/`http.port`.
 */
export function daemonUrl(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): string {
  const override = env.CLAWPOD_URL?.trim();
  if (override) return override.replace(/\/+$/, '');
  const recorded = readDaemonAddress(config.paths.home);
  if (recorded) return recorded.url;
  return urlFor(config.file.http.host, config.file.http.port);
}

export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:7420` (no trailing slash needed). */
  baseUrl: string;
  /** The bearer token, or the file it is read from (lazily, on the first authenticated call). */
  token?: string;
  tokenFile?: string;
  /** Per-request timeout for plain (non-streaming) calls. */
  timeoutMs?: number;
}

/** A typed client for the daemon's HTTP API (src/http/app.ts). Never writes to the console. */
export class ApiClient {
  readonly baseUrl: string;
  private token: string | undefined;

  constructor(private readonly opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
  }

  /** The client for this installation: {@link daemonUrl} and `$CLAWPOD_HOME/api-token`. */
  static fromConfig(
    config: Config,
    env: Record<string, string | undefined> = process.env,
  ): ApiClient {
    return new ApiClient({ baseUrl: daemonUrl(config, env), tokenFile: config.paths.apiToken });
  }

  /** The API token; throws a clear error when the file is missing (daemon never started). */
  apiToken(): string {
    if (this.token) return this.token;
    const file = this.opts.tokenFile;
    let token = '';
    try {
      if (file) token = readFileSync(file, 'utf8').trim();
    } catch {
      // handled below
    }
    if (!token) {
      throw new Error(
        `no API token at ${file ?? '(none configured)'}; \`clawpod start\` creates it on its first start`,
      );
    }
    this.token = token;
    return token;
  }

  /** The dashboard link with the token in the fragment (never sent to the server). */
  dashboardUrl(): string {
    return `${this.baseUrl}/#token=${encodeURIComponent(this.apiToken())}`;
  }

  /** {@link dashboardUrl} with another port (a daemon started with `--port`, or port 0). */
  dashboardUrlAt(port: number): string {
    const url = new URL(this.dashboardUrl());
    url.port = String(port);
    return url.toString();
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    auth = true,
    timeoutMs?: number,
  ): Promise<T> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = `Bearer ${this.apiToken()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    const ms = timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(ms),
      });
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') {
        throw new Error(
          `the daemon at ${this.baseUrl} did not answer within ${Math.round(ms / 1000)} s`,
          { cause: err },
        );
      }
      throw new DaemonUnreachableError(this.baseUrl, err);
    }
    const text = await res.text();
    if (res.status === 401 && auth) {
      const where = this.opts.tokenFile ? ` from ${this.opts.tokenFile}` : '';
      throw new ApiError(
        401,
        'unauthorized',
        `the daemon at ${this.baseUrl} refused this installation's API token${where}: it belongs ` +
          "to another data dir (set CLAWPOD_HOME to its home, or CLAWPOD_URL to this one's " +
          'daemon), or it was restarted with a new token since',
      );
    }
    if (!res.ok) throw errorFromBody(res.status, text, url);
    if (res.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        res.status,
        'invalid_response',
        `${url} did not answer with JSON (is this a clawpod daemon?)`,
      );
    }
  }

  /** `GET /api/health` (no token needed). */
  async health(timeoutMs = 3000): Promise<Health> {
    const h = await this.request<Health>('GET', '/api/health', undefined, false, timeoutMs);
    if (!h || h.status !== 'ok')
      throw new ApiError(200, 'invalid_response', `${this.baseUrl} is not a clawpod daemon`);
    return h;
  }

  /** The health answer when a clawpod daemon answers at the address, else null. */
  async probe(timeoutMs = 3000): Promise<Health | null> {
    try {
      return await this.health(timeoutMs);
    } catch {
      return null;
    }
  }

  /** `GET /api/status`: the daemon's live report. */
  status(): Promise<DaemonStatus> {
    return this.request('GET', '/api/status');
  }

  /** Stores a message as the owner (or `sender`) and routes it. */
  postMessage(
    chat: string,
    text: string,
    opts: { sender?: string; id?: string } = {},
  ): Promise<{ seq: number; duplicate: boolean; wakes?: boolean; quiet?: string | null }> {
    return this.request('POST', '/api/messages', { chat, text, ...opts });
  }

  /** `GET /api/runs/:id`: one run, with its replies by delivery status. */
  run(id: string): Promise<RunRecord & { replies: Record<OutboxStatus, number> }> {
    return this.request('GET', `/api/runs/${encodeURIComponent(id)}`);
  }

  /** Up to 500 messages of a chat with seq > `after`, oldest first. */
  chatMessages(chat: string, after = 0): Promise<ChatMessage[]> {
    return this.request('GET', `/api/chats/${encodeURIComponent(chat)}/messages?after=${after}`);
  }

  /** `GET /api/chats`: every chat the daemon has seen. */
  chats(): Promise<unknown[]> {
    return this.request('GET', '/api/chats');
  }

  /** `GET /api/groups`. */
  groups(): Promise<Group[]> {
    return this.request('GET', '/api/groups');
  }

  /** `GET /api/groups/:name`. */
  group(name: string): Promise<Group> {
    return this.request('GET', `/api/groups/${encodeURIComponent(name)}`);
  }

  /** `POST /api/groups` (body as for `newGroupSchema`). */
  addGroup(body: Record<string, unknown>): Promise<Group> {
    return this.request('POST', '/api/groups', body);
  }

  /** `PATCH /api/groups/:name` (body as for `groupSettingsSchema`). */
  updateGroup(name: string, body: Record<string, unknown>): Promise<Group> {
    return this.request('PATCH', `/api/groups/${encodeURIComponent(name)}`, body);
  }

  /** `DELETE /api/groups/:name`. */
  removeGroup(name: string): Promise<void> {
    return this.request('DELETE', `/api/groups/${encodeURIComponent(name)}`);
  }

  /** `POST /api/groups/:name/chats`: binds another chat. */
  bindChat(name: string, chat: string): Promise<Group> {
    return this.request('POST', `/api/groups/${encodeURIComponent(name)}/chats`, { chat });
  }

  /** `DELETE /api/groups/:name/chats/:chat`: unbinds a chat; the group as it is now. */
  unbindChat(name: string, chat: string): Promise<Group> {
    return this.request(
      'DELETE',
      `/api/groups/${encodeURIComponent(name)}/chats/${encodeURIComponent(chat)}`,
    );
  }

  /** `GET /api/runs`: recent runs, newest first. */
  runs(opts: { limit?: number; group?: string } = {}): Promise<RunRecord[]> {
    const q = new URLSearchParams();
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.group) q.set('group', opts.group);
    const qs = q.toString();
    return this.request('GET', `/api/runs${qs ? `?${qs}` : ''}`);
  }

  /** `GET /api/deadletters`: newest first; `status` pending (default), retried, discarded or all. */
  deadLetters(opts: { status?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const q = new URLSearchParams();
    if (opts.status) q.set('status', opts.status);
    if (opts.limit) q.set('limit', String(opts.limit));
    const qs = q.toString();
    return this.request('GET', `/api/deadletters${qs ? `?${qs}` : ''}`);
  }

  /** `GET /api/deadletters/:id`: one letter with its reply or messages. */
  deadLetter(id: number): Promise<DeadLetterDetail> {
    return this.request('GET', `/api/deadletters/${id}`);
  }

  /** `POST /api/deadletters/:id/retry` or `/discard`: the letter as it is afterwards. */
  decideDeadLetter(id: number, decision: 'retry' | 'discard'): Promise<DeadLetter> {
    return this.request('POST', `/api/deadletters/${id}/${decision}`);
  }

  /** `POST /api/approvals/:id`: the owner's answer (409 when it was already decided). */
  decideApproval(id: number, decision: 'once' | 'always' | 'deny'): Promise<ApprovalRecord> {
    return this.request('POST', `/api/approvals/${id}`, { decision });
  }

  /** `DELETE /api/guard/rules/:id`. */
  revokeRule(id: number): Promise<void> {
    return this.request('DELETE', `/api/guard/rules/${id}`);
  }

  /** Prometheus text from `/metrics`. */
  async metrics(): Promise<string> {
    const res = await fetch(`${this.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${this.apiToken()}` },
    }).catch((err: unknown) => {
      throw new DaemonUnreachableError(this.baseUrl, err);
    });
    const text = await res.text();
    if (!res.ok) throw errorFromBody(res.status, text, `${this.baseUrl}/metrics`);
    return text;
  }

  /**
   * Opens `GET /api/events` (optionally for one chat) and calls `onEvent` for every event block,
   * starting with `ready`. Resolves once the stream is accepted.
   */
  subscribe(opts: { chat?: string; onEvent: (ev: SseEvent) => void }): Promise<EventSubscription> {
    const query = opts.chat ? `?chat=${encodeURIComponent(opts.chat)}` : '';
    return openEventStream({
      url: `${this.baseUrl}/api/events${query}`,
      token: this.apiToken(),
      baseUrl: this.baseUrl,
      onEvent: opts.onEvent,
    });
  }
}
