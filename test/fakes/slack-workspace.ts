/**
 * The state of a fake Slack workspace and its Web API methods (the data behind
 * `test/fakes/slack-server.ts`): users, conversations, message history with metadata, hosted
 * files, posts and uploads. The server adds the transports (HTTP, Socket Mode, signed events).
 */
import { randomUUID } from 'node:crypto';

export interface FakeMessage {
  type: 'message';
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

export interface FakePost {
  channel: string;
  ts: string;
  text: string;
  thread_ts?: string;
  mrkdwn: boolean;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Block Kit blocks as posted, or as last replaced by chat.update. */
  blocks?: Array<Record<string, unknown>>;
  /** Texts it was updated to (chat.update), oldest first. */
  updates?: string[];
}

/** An ephemeral message (chat.postEphemeral): seen by one user only. */
export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
}

export interface FakeUpload {
  id: string;
  filename: string;
  data: Buffer;
  channel?: string;
  thread_ts?: string;
}

export abstract class SlackWorkspace {
  readonly botToken = 'xoxb-fake-bot-token';
  readonly appToken = 'xapp-fake-app-token';
  readonly botUserId = 'UBOT';
  readonly botId = 'BBOT';
  /** Every Web API call in order, with its parsed arguments and arrival time. */
  readonly calls: Array<{ method: string; args: Record<string, unknown>; at: number }> = [];
  /** Messages posted by chat.postMessage (successful ones). */
  readonly posts: FakePost[] = [];
  readonly uploads: FakeUpload[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  /** User id → display name (users.info). */
  readonly users = new Map<string, string>();
  /** Conversation id → what conversations.info says. */
  readonly conversations = new Map<
    string,
    { name?: string; is_im?: boolean; is_mpim?: boolean; user?: string }
  >();
  /** Hosted files: bytes served at `/files/<id>/<name>`. */
  readonly files = new Map<string, { name: string; mimetype: string; data: Buffer }>();
  protected readonly history = new Map<string, FakeMessage[]>();
  private readonly postWaiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly answeredCount = new Map<string, number>();
  private readonly answerWaiters: Array<{ method: string; n: number; resolve: () => void }> = [];
  protected seq = 0;

  abstract get port(): number;

  /** Called after each successful chat.postMessage. */
  protected abstract onPost(post: FakePost): void;

  /** A message already in a channel (or thread), e.g. a post that a crash cut off. */
  seed(channel: string, msg: Omit<FakeMessage, 'type' | 'ts'> & { ts?: string }): FakeMessage {
    const m: FakeMessage = { type: 'message', ts: msg.ts ?? this.nextTs(), ...msg };
    this.history.set(channel, [...(this.history.get(channel) ?? []), m]);
    return m;
  }

  /** Hosts a file and returns it as Slack describes files in message events. */
  addFile(name: string, mimetype: string, data: Buffer, size = data.length) {
    const id = `F${++this.seq}`;
    this.files.set(id, { name, mimetype, data });
    const url = `http://127.0.0.1:${this.port}/files/${id}/${encodeURIComponent(name)}`;
    return {
      id,
      name,
      mimetype,
      size,
      mode: 'hosted',
      url_private: url,
      url_private_download: `${url}?download=1`,
    };
  }

  /** Resolves once `n` messages were posted in total. */
  waitForPosts(n: number): Promise<void> {
    if (this.posts.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.postWaiters.push({ n, resolve }));
  }

  /** Resolves once `method` has been answered `n` times in total. */
  whenAnswered(method: string, n: number): Promise<void> {
    if ((this.answeredCount.get(method) ?? 0) >= n) return Promise.resolve();
    return new Promise((resolve) => this.answerWaiters.push({ method, n, resolve }));
  }

  /** Counts an answered call of `method` (the server calls it after answering). */
  protected answered(method: string): void {
    const n = (this.answeredCount.get(method) ?? 0) + 1;
    this.answeredCount.set(method, n);
    for (const w of this.answerWaiters.filter((w) => w.method === method && n >= w.n)) {
      this.answerWaiters.splice(this.answerWaiters.indexOf(w), 1);
      w.resolve();
    }
  }

  /** A fresh message ts, later than every earlier one. */
  nextTs(): string {
    const s = Math.floor(Date.now() / 1000);
    return `${s}.${String(++this.seq).padStart(6, '0')}`;
  }

  /** The answer of one Web API method (tokens already checked). */
  protected answer(method: string, a: Record<string, unknown>): Record<string, unknown> {
    const str = (k: string) => (a[k] === undefined ? undefined : String(a[k]));
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.com/',
          team: 'Fake',
          user: 'andy',
          team_id: 'T1',
          user_id: this.botUserId,
          bot_id: this.botId,
        };
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${randomUUID()}` };
      case 'chat.postMessage': {
        const channel = str('channel')!;
        const post: FakePost = {
          channel,
          ts: this.nextTs(),
          text: str('text') ?? '',
          mrkdwn: str('mrkdwn') !== 'false',
          ...(str('thread_ts') ? { thread_ts: str('thread_ts') } : {}),
          ...(a.metadata ? { metadata: a.metadata as FakePost['metadata'] } : {}),
          ...(a.blocks ? { blocks: a.blocks as FakePost['blocks'] } : {}),
        };
        this.seed(channel, {
          ts: post.ts,
          text: post.text,
          user: this.botUserId,
          bot_id: this.botId,
          thread_ts: post.thread_ts,
          metadata: post.metadata,
        });
        this.posts.push(post);
        this.onPost(post);
        for (const w of this.postWaiters.filter((w) => this.posts.length >= w.n)) w.resolve();
        return { ok: true, channel, ts: post.ts, message: { text: post.text, ts: post.ts } };
      }
      case 'chat.update': {
        const post = this.posts.find((p) => p.channel === str('channel') && p.ts === str('ts'));
        if (!post) return { ok: false, error: 'message_not_found' };
        post.text = str('text') ?? post.text;
        // As Slack: blocks left out are kept; blocks given replace them.
        if (a.blocks) post.blocks = a.blocks as FakePost['blocks'];
        (post.updates ??= []).push(post.text);
        return { ok: true, channel: post.channel, ts: post.ts, text: post.text };
      }
      case 'chat.postEphemeral': {
        const e: FakeEphemeral = {
          channel: str('channel')!,
          user: str('user')!,
          text: str('text') ?? '',
          ...(str('thread_ts') ? { thread_ts: str('thread_ts') } : {}),
        };
        if (!this.users.has(e.user)) return { ok: false, error: 'user_not_in_channel' };
        this.ephemerals.push(e);
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'conversations.history': {
        const all = (this.history.get(str('channel')!) ?? []).filter(
          (m) => !m.thread_ts || m.thread_ts === m.ts,
        );
        const withMeta = str('include_all_metadata') === 'true';
        const limit = Number(str('limit') ?? 100);
        const newest = [...all].reverse().slice(0, limit);
        return {
          ok: true,
          messages: newest.map((m) => (withMeta ? m : { ...m, metadata: undefined })),
          has_more: false,
        };
      }
      case 'conversations.replies': {
        const ts = str('ts');
        const all = (this.history.get(str('channel')!) ?? []).filter(
          (m) => m.ts === ts || m.thread_ts === ts,
        );
        if (!all.length) return { ok: false, error: 'thread_not_found' };
        const withMeta = str('include_all_metadata') === 'true';
        const limit = Number(str('limit') ?? 1000);
        return {
          ok: true,
          messages: all.slice(0, limit).map((m) => (withMeta ? m : { ...m, metadata: undefined })),
          has_more: false,
        };
      }
      case 'conversations.info': {
        const c = this.conversations.get(str('channel')!);
        return c
          ? { ok: true, channel: { id: str('channel'), ...c } }
          : { ok: false, error: 'channel_not_found' };
      }
      case 'conversations.open': {
        // A DM with one user: `D` + the user id, stable per user (as Slack's is).
        const user = str('users');
        if (!user || user.includes(',')) return { ok: false, error: 'not_enough_users' };
        if (!this.users.has(user)) return { ok: false, error: 'user_not_found' };
        const id = `D${user.slice(1)}`;
        this.conversations.set(id, { is_im: true, user });
        return { ok: true, channel: { id } };
      }
      case 'users.info': {
        const name = this.users.get(str('user')!);
        return name
          ? {
              ok: true,
              user: {
                id: str('user'),
                name: name.toLowerCase(),
                real_name: name,
                profile: { display_name: name, real_name: name },
              },
            }
          : { ok: false, error: 'user_not_found' };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${++this.seq}`;
        this.uploads.push({ id, filename: str('filename') ?? 'file', data: Buffer.alloc(0) });
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = (a.files as Array<{ id: string; title?: string }>) ?? [];
        for (const f of files) {
          const u = this.uploads.find((x) => x.id === f.id);
          if (u)
            Object.assign(u, {
              channel: str('channel_id'),
              ...(str('thread_ts') ? { thread_ts: str('thread_ts') } : {}),
            });
        }
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}
