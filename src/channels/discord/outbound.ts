import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DiscordAPIError, HTTPError, RateLimitError, Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import { DeliveryError, type OutboundFile } from '../channel.js';
import type { RateLimiter } from '../rate-limiter.js';
import { toDiscordMarkdown, toPlainText } from './format.js';

/** Discord's message length limit (characters). */
export const DISCORD_MAX_LENGTH = 2000;

/**
 * The nonce sent with a piece: 25 characters (Discord's maximum) derived from the outbox
 * idempotency key. With `enforce_nonce`, Discord answers a repeat from the same bot within a few
 * minutes with the message already created instead of posting again.
 */
export function nonceFor(idemKey: string): string {
  return createHash('sha256').update(idemKey).digest('base64url').slice(0, 25);
}

/**
 * The Discord channel to post to for a chat id: `discord:<channel id>`, or the thread in
 * `discord:<parent id>/<thread id>` (a thread is a channel of its own on Discord).
 */
export function channelIdOf(chatId: string): string {
  const m = /^discord:(\d{1,25})(?:\/(\d{1,25}))?$/.exec(chatId);
  if (!m) throw new DeliveryError(`not a Discord chat id: ${chatId}`, { permanent: true });
  return m[2] ?? m[1]!;
}

export interface PostOptions {
  replyTo?: string | null;
  /** Reply to `replyTo` (the group's threadReplies). */
  thread?: boolean;
  idemKey: string;
  files?: OutboundFile[];
}

/** A 400 about the message text (length, emptiness after conversion): resend it plain. */
function contentRejected(err: unknown): boolean {
  if (!(err instanceof DiscordAPIError) || err.status !== 400) return false;
  const raw = err.rawError as { errors?: unknown };
  return err.code === 50035 && JSON.stringify(raw.errors ?? {}).includes('"content"');
}

/**
 * Posts pieces of replies to Discord over REST: formatted first, plain when Discord rejects the
 * text, spaced by the shared RateLimiter, with files as a multipart upload. A 429 pauses the
 * limiter (for the chat, or for all chats on Discord's global limit) and becomes a DeliveryError
 * with `retryAfterMs`, so the outbox waits and sends the piece once more (the outbox keeps each
 * chat's pieces in order meanwhile).
 */
export class DiscordPoster {
  constructor(private readonly deps: { rest: REST; limiter: RateLimiter; log: Logger }) {}

  /** Posts one piece; returns Discord's message id. */
  async post(chatId: string, text: string, opts: PostOptions): Promise<string> {
    const channelId = channelIdOf(chatId);
    const files = await this.readFiles(opts.files ?? []);
    const formatted = toDiscordMarkdown(text);
    const plain = toPlainText(text);
    const plainOrRaw = plain.length <= DISCORD_MAX_LENGTH ? plain : text;
    const first = formatted.length <= DISCORD_MAX_LENGTH ? formatted : plainOrRaw;
    try {
      return await this.create(chatId, channelId, first, opts, files);
    } catch (err) {
      if (first === plainOrRaw || !contentRejected(err)) throw this.toDeliveryError(err, chatId);
      this.deps.log.warn(
        { chat: chatId, err: (err as Error).message },
        'Discord rejected the formatted text; sending it plain',
      );
      try {
        return await this.create(chatId, channelId, plainOrRaw, opts, files);
      } catch (again) {
        throw this.toDeliveryError(again, chatId);
      }
    }
  }

  private async create(
    chatId: string,
    channelId: string,
    content: string,
    opts: PostOptions,
    files: Array<{ name: string; data: Buffer }>,
  ): Promise<string> {
    await this.deps.limiter.acquire(chatId);
    const body = {
      content,
      nonce: nonceFor(opts.idemKey),
      enforce_nonce: true,
      // Users may be pinged by id; never @everyone/@here or roles, whatever the model writes.
      allowed_mentions: { parse: ['users'], replied_user: false },
      // A reply to the message answered only where the group asks for it (threadReplies).
      ...(opts.thread && opts.replyTo && /^\d+$/.test(opts.replyTo)
        ? { message_reference: { message_id: opts.replyTo, fail_if_not_exists: false } }
        : {}),
      ...(files.length ? { attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
    };
    const created = (await this.deps.rest.post(Routes.channelMessages(channelId), {
      body,
      files: files.length ? files : undefined,
    })) as { id: string };
    return created.id;
  }

  private async readFiles(files: OutboundFile[]): Promise<Array<{ name: string; data: Buffer }>> {
    const out: Array<{ name: string; data: Buffer }> = [];
    for (const f of files) {
      try {
        out.push({ name: f.name, data: await readFile(f.path) });
      } catch (err) {
        throw new DeliveryError(`file ${f.name} cannot be read: ${(err as Error).message}`, {
          permanent: true,
        });
      }
    }
    return out;
  }

  private toDeliveryError(err: unknown, chatId: string): DeliveryError {
    if (err instanceof DeliveryError) return err;
    if (err instanceof RateLimitError) {
      const ms = Math.max(1, Math.ceil(err.retryAfter));
      this.deps.limiter.pause(ms, err.global ? undefined : chatId);
      return new DeliveryError(`Discord rate limit${err.global ? ' (global)' : ''}`, {
        retryAfterMs: ms,
      });
    }
    if (err instanceof DiscordAPIError) {
      // 4xx: missing access or permissions, unknown channel, a user who refuses DMs, bad input.
      const permanent = err.status >= 400 && err.status < 500 && err.status !== 408;
      return new DeliveryError(`Discord ${err.status} ${err.code}: ${err.message}`, { permanent });
    }
    if (err instanceof HTTPError) return new DeliveryError(`Discord HTTP ${err.status}`);
    return new DeliveryError(err instanceof Error ? err.message : String(err));
  }
}
