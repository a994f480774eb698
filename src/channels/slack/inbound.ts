import { z } from 'zod';
import type { InboundAttachment } from '../attachments.js';
import type { Inbound } from '../channel.js';
import { slackChatId, tsToMillis } from './ids.js';

/** A file as Slack describes it in a message event. */
export const slackFileSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  size: z.number().nullish(),
  mode: z.string().nullish(),
  url_private: z.string().nullish(),
  url_private_download: z.string().nullish(),
});
export type SlackFile = z.infer<typeof slackFileSchema>;

/** The parts of a `message` or `app_mention` event the adapter reads (unknown keys dropped). */
export const slackMessageEventSchema = z.object({
  type: z.enum(['message', 'app_mention']),
  subtype: z.string().nullish(),
  channel: z.string().regex(/^[A-Z0-9]+$/),
  channel_type: z.string().nullish(),
  user: z.string().nullish(),
  bot_id: z.string().nullish(),
  username: z.string().nullish(),
  text: z.string().nullish(),
  ts: z.string().regex(/^\d+\.\d+$/),
  thread_ts: z
    .string()
    .regex(/^\d+\.\d+$/)
    .nullish(),
  files: z.array(slackFileSchema).nullish(),
});
export type SlackMessageEvent = z.infer<typeof slackMessageEventSchema>;

/** Who the bot is (from `auth.test`). */
export interface SlackIdentity {
  botUserId: string;
  botId: string | null;
}

/** Look-ups the mapping needs; the adapter backs them with cached Web API calls. */
export interface InboundLookups {
  userName(userId: string): Promise<string | null>;
  chat(channel: string): Promise<{ name: string | null; kind: 'group' | 'direct' | null }>;
  /** The first message of a thread (its parent), or null when it cannot be read. */
  threadParent(
    channel: string,
    threadTs: string,
  ): Promise<{ user: string | null; text: string } | null>;
  /** The file's bytes (at most `maxBytes`; throws when larger or unreadable). */
  download(file: SlackFile, maxBytes: number): Promise<Buffer>;
}

export interface InboundContext {
  identity: SlackIdentity;
  assistantName: string;
  maxBytes: number;
  lookups: InboundLookups;
}

export type Mapped = { kind: 'inbound'; inbound: Inbound } | { kind: 'ignored'; reason: string };

/** Message subtypes that carry a person's words; every other subtype is platform noise. */
const HUMAN_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);
const QUOTE_CHARS = 100;

const USER_REF = /<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g;

/**
 * Slack's message text → plain text for the prompt: the bot's own mention becomes
 * `@<assistant name>` (so the trigger word matches too), other mentions `@name`, channel links
 * `#name`, links `label (url)`, and the entities `&amp; &lt; &gt;` are decoded.
 */
export function slackTextToPlain(
  text: string,
  opts: { botUserId: string; assistantName: string; names: ReadonlyMap<string, string> },
): string {
  return text
    .replace(USER_REF, (_m, id: string, label?: string) =>
      id === opts.botUserId ? `@${opts.assistantName}` : `@${label || opts.names.get(id) || id}`,
    )
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, handle?: string) => handle || '@team')
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(
      /<!([^|>]+)(?:\|([^>]*))?>/g,
      (_m, what: string, label?: string) => label || `@${what}`,
    )
    .replace(/<([a-z][a-z0-9+.-]*:[^|>]+)(?:\|([^>]*))?>/gi, (_m, url: string, label?: string) => {
      const bare = url.replace(/^mailto:/i, '');
      return !label || label === url || label === bare ? bare : `${label} (${url})`;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Whether the text mentions the bot natively (`<@BOTID>`). */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

async function resolveNames(
  text: string,
  lookups: InboundLookups,
  botUserId: string,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const [, id, label] of text.matchAll(USER_REF)) {
    if (id === botUserId || label || names.has(id!)) continue;
    const name = await lookups.userName(id!).catch(() => null);
    if (name) names.set(id!, name);
  }
  return names;
}

async function attachmentsOf(
  files: SlackFile[],
  ctx: InboundContext,
): Promise<{ attachments: InboundAttachment[]; notes: string[] }> {
  const attachments: InboundAttachment[] = [];
  const notes: string[] = [];
  for (const f of files) {
    const name = f.name || f.title || `${f.id}`;
    const mime = f.mimetype ?? undefined;
    if (f.mode === 'tombstone' || f.mode === 'hidden_by_limit') {
      notes.push(`[attachment not available: ${name}]`);
    } else if (f.size != null && f.size > ctx.maxBytes) {
      notes.push(
        `[attachment not downloaded: ${name} (${mime ?? 'file'}, ${f.size} bytes, over the ${ctx.maxBytes}-byte limit)]`,
      );
    } else {
      try {
        attachments.push({ name, mime, data: await ctx.lookups.download(f, ctx.maxBytes) });
      } catch (err) {
        notes.push(`[attachment not downloaded: ${name} (${(err as Error).message})]`);
      }
    }
  }
  return { attachments, notes };
}

/**
 * Maps a Slack `message` / `app_mention` event to an Inbound, or says why it is ignored.
 * Rules: the bot's own messages are ignored (the outbox records them); other bots' messages are
 * kept as `isBot` (stored, never a trigger); edits (`message_changed`), deletions and system
 * subtypes (joins, topic changes, …) are ignored. A message in a thread arrives on the thread's
 * chat `slack:<channel>/<thread ts>`, with `replyTo` the parent's ts and a short quote of the
 * parent as its last line. An app mention, `<@BOT>` in the text, or any direct message sets
 * `mentioned`.
 */
export async function toInbound(raw: unknown, ctx: InboundContext): Promise<Mapped> {
  const parsed = slackMessageEventSchema.safeParse(raw);
  if (!parsed.success) return { kind: 'ignored', reason: 'not a message event the adapter reads' };
  const ev = parsed.data;
  const { identity, lookups } = ctx;
  if (ev.subtype === 'message_changed')
    return { kind: 'ignored', reason: 'edit (edits are ignored)' };
  const own = ev.user === identity.botUserId || (!!ev.bot_id && ev.bot_id === identity.botId);
  if (own) return { kind: 'ignored', reason: 'the bot’s own message' };
  const isBot = !!ev.bot_id || ev.subtype === 'bot_message';
  if (!isBot && ev.subtype && !HUMAN_SUBTYPES.has(ev.subtype))
    return { kind: 'ignored', reason: `subtype ${ev.subtype}` };
  const sender = ev.user ?? ev.bot_id;
  if (!sender) return { kind: 'ignored', reason: 'no author' };

  const thread = ev.thread_ts && ev.thread_ts !== ev.ts ? ev.thread_ts : null;
  const info = await lookups.chat(ev.channel).catch(() => ({ name: null, kind: null }));
  const byType = ev.channel_type ? (ev.channel_type === 'im' ? 'direct' : 'group') : null;
  const kind = byType ?? info.kind ?? (ev.channel.startsWith('D') ? 'direct' : 'group');
  const rawText = ev.text ?? '';
  const names = await resolveNames(rawText, lookups, identity.botUserId);
  const lines = [
    slackTextToPlain(rawText, {
      botUserId: identity.botUserId,
      assistantName: ctx.assistantName,
      names,
    }),
  ];
  const { attachments, notes } = isBot
    ? { attachments: [], notes: [] }
    : await attachmentsOf(ev.files ?? [], ctx);
  lines.push(...notes);
  if (thread) {
    const parent = await lookups.threadParent(ev.channel, thread).catch(() => null);
    if (parent) {
      const who = parent.user
        ? parent.user === identity.botUserId
          ? ctx.assistantName
          : ((await lookups.userName(parent.user).catch(() => null)) ?? parent.user)
        : 'someone';
      const said = slackTextToPlain(parent.text, {
        botUserId: identity.botUserId,
        assistantName: ctx.assistantName,
        names: new Map(),
      }).replace(/\s+/g, ' ');
      const short = said.length > QUOTE_CHARS ? `${said.slice(0, QUOTE_CHARS - 1)}…` : said;
      lines.push(`> in thread of ${who}: "${short}"`);
    }
  }
  const senderName = isBot
    ? (ev.username ?? sender)
    : ((await lookups.userName(sender).catch(() => null)) ?? sender);
  const mentioned =
    !isBot &&
    (ev.type === 'app_mention' || mentionsBot(rawText, identity.botUserId) || kind === 'direct');
  const chatName = info.name ? (thread ? `${info.name} › thread` : info.name) : null;
  return {
    kind: 'inbound',
    inbound: {
      chatId: slackChatId(ev.channel, thread),
      platformId: ev.ts,
      sender: `slack:${sender}`, // channel-prefixed, as sender allowlists hold them
      senderName,
      text: lines.filter(Boolean).join('\n'),
      ts: tsToMillis(ev.ts),
      replyTo: thread,
      isBot,
      mentioned,
      chatName,
      chatKind: kind,
      ...(attachments.length ? { attachments } : {}),
    },
  };
}
