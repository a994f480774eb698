import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import { downloadCapped } from '../kit/download.js';
import type { InboundLookups, SlackFile } from './inbound.js';

/** A bounded map whose entries expire; the oldest entry goes first when full. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

const userInfo = z.object({
  user: z.object({
    name: z.string().nullish(),
    real_name: z.string().nullish(),
    profile: z
      .object({ display_name: z.string().nullish(), real_name: z.string().nullish() })
      .nullish(),
  }),
});
const conversationInfo = z.object({
  channel: z.object({
    name: z.string().nullish(),
    is_im: z.boolean().nullish(),
    is_mpim: z.boolean().nullish(),
    user: z.string().nullish(),
  }),
});
const replies = z.object({
  messages: z.array(z.object({ user: z.string().nullish(), text: z.string().nullish() })).nullish(),
});

/**
 * Whether the bot token may be sent to a file URL: Slack's own hosts over https, or the origin
 * of the configured API URL (a local test server). Anything else is refused.
 */
export function trustedFileUrl(url: string, apiUrl: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.origin === new URL(apiUrl).origin) return true;
  return (
    u.protocol === 'https:' && (u.hostname === 'slack.com' || u.hostname.endsWith('.slack.com'))
  );
}

/**
 * The inbound look-ups backed by the Web API, cached for an hour: user names (`users.info`),
 * conversation names and kinds (`conversations.info`), thread parents (`conversations.replies`)
 * and file downloads (`url_private_download` with the bot token).
 */
export class SlackLookups implements InboundLookups {
  private readonly users = new TtlCache<string | null>(2000, 3_600_000);
  private readonly chats = new TtlCache<{ name: string | null; kind: 'group' | 'direct' }>(
    1000,
    3_600_000,
  );
  private readonly parents = new TtlCache<{ user: string | null; text: string } | null>(
    1000,
    3_600_000,
  );

  constructor(
    private readonly api: webApi.WebClient,
    private readonly botToken: string,
    private readonly apiUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async userName(userId: string): Promise<string | null> {
    const cached = this.users.get(userId);
    if (cached !== undefined) return cached;
    const res = userInfo.parse(await this.api.users.info({ user: userId }));
    const u = res.user;
    const name = u.profile?.display_name || u.profile?.real_name || u.real_name || u.name || null;
    this.users.set(userId, name);
    return name;
  }

  async chat(channel: string): Promise<{ name: string | null; kind: 'group' | 'direct' }> {
    const cached = this.chats.get(channel);
    if (cached) return cached;
    const c = conversationInfo.parse(await this.api.conversations.info({ channel })).channel;
    let info: { name: string | null; kind: 'group' | 'direct' };
    if (c.is_im) {
      const who = c.user ? await this.userName(c.user).catch(() => null) : null;
      info = { name: `DM with ${who ?? c.user ?? 'someone'}`, kind: 'direct' };
    } else {
      info = { name: c.name ? `${c.is_mpim ? '' : '#'}${c.name}` : null, kind: 'group' };
    }
    this.chats.set(channel, info);
    return info;
  }

  async threadParent(
    channel: string,
    threadTs: string,
  ): Promise<{ user: string | null; text: string } | null> {
    const key = `${channel}/${threadTs}`;
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const res = replies.parse(
      await this.api.conversations.replies({ channel, ts: threadTs, limit: 1 }),
    );
    const first = res.messages?.[0];
    const parent = first ? { user: first.user ?? null, text: first.text ?? '' } : null;
    this.parents.set(key, parent);
    return parent;
  }

  async download(file: SlackFile, maxBytes: number): Promise<Buffer> {
    const url = file.url_private_download ?? file.url_private;
    if (!url) throw new Error('no download URL');
    if (!trustedFileUrl(url, this.apiUrl)) throw new Error('download URL not on a Slack host');
    const got = await downloadCapped(url, {
      maxBytes,
      timeoutMs: this.timeoutMs,
      headers: { Authorization: `Bearer ${this.botToken}` },
    });
    if (got.kind === 'ok') return got.data;
    if (got.kind === 'too-big') throw new Error(`over the ${maxBytes}-byte limit`);
    if (got.kind === 'http-error') throw new Error(`download failed with HTTP ${got.status}`);
    throw new Error(got.message);
  }
}
