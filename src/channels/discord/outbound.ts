import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DiscordAPIError, HTTPError, RateLimitError, Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import { DeliveryError, type OutboundFile } from '../channel.js';
import type { RateLimiter } from '../rate-limiter.js';
import { toDiscordMarkdown, toPlainText } from './format.js';

/** Discord's message length limit (characters). */
export const DISCORD_MAX_LENGTH = 2000;
/** Margin added when holding back later sends, so a rate-limited piece goes first. */
const ORDER_MARGIN_MS = 250;

/**
 * The nonce sent with a piece: 25 characters (Discord's maximum) derived from the outbox
 * idempotency key. With `enforce_nonce`, Discord answers a repeat from the same bot within a few
 * minutes with the message already created instead of posting again.
 */
export function nonceFor(idemKey: string): string {
  return createHash('sha256').update(idemKey).digest('base64url').slice(0, 25);
}

/** The id of a Discord channel from a chat id (`discord:<channel id>`). */
export function channelIdOf(chatJid: string): string {
  const id = chatJid.slice('discord:'.length);
  if (!/^\d{1,25}$/.test(id))
    throw new DeliveryError(`not a Discord chat id: ${chatJid}`, { permanent: true });
  return id;
}

export interface PostOptions {
  replyTo?: string | null;
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
 * limiter and becomes a DeliveryError with `retryAfterMs`; while a chat (or the whole bot) is
 * paused, its other pieces are handed back too, a little later, so they keep their order.
 */
export class DiscordPoster {
  private readonly pauses = new Map<string, { until: number; key: string }>();

  constructor(
    private readonly deps: { rest: REST; limiter: RateLimiter; log: Logger; now?: () => number },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** Posts one piece; returns Discord's message id. */
  async post(chatJid: string, text: string, opts: PostOptions): Promise<string> {
    const channelId = channelIdOf(chatJid);
    this.holdBackIfPaused(chatJid, opts.idemKey);
    const files = await this.readFiles(opts.files ?? []);
    const formatted = toDiscordMarkdown(text);
    const plain = toPlainText(text);
    const plainOrRaw = plain.length <= DISCORD_MAX_LENGTH ? plain : text;
    const first = formatted.length <= DISCORD_MAX_LENGTH ? formatted : plainOrRaw;
    try {
      return await this.create(chatJid, channelId, first, opts, files);
    } catch (err) {
      if (first === plainOrRaw || !contentRejected(err))
        throw this.toDeliveryError(err, chatJid, opts.idemKey);
      this.deps.log.warn(
        { chat: chatJid, err: (err as Error).message },
        'Discord rejected the formatted text; sending it plain',
      );
      try {
        return await this.create(chatJid, channelId, plainOrRaw, opts, files);
      } catch (again) {
        throw this.toDeliveryError(again, chatJid, opts.idemKey);
      }
    }
  }

  private async create(
    chatJid: string,
    channelId: string,
    content: string,
    opts: PostOptions,
    files: Array<{ name: string; data: Buffer }>,
  ): Promise<string> {
    await this.deps.limiter.acquire(chatJid);
    const body = {
      content,
      nonce: nonceFor(opts.idemKey),
      enforce_nonce: true,
      // Users may be pinged by id; never @everyone/@here or roles, whatever the model writes.
      allowed_mentions: { parse: ['users'], replied_user: false },
      ...(opts.replyTo && /^\d+$/.test(opts.replyTo)
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

  /** While a 429 pause runs, pieces other than the limited one wait their turn in the outbox. */
  private holdBackIfPaused(chatJid: string, idemKey: string): void {
    const now = this.now();
    for (const scope of [chatJid, '*']) {
      const p = this.pauses.get(scope);
      if (!p) continue;
      if (p.until <= now) {
        this.pauses.delete(scope);
        continue;
      }
      if (p.key === idemKey) continue;
      throw new DeliveryError('held back behind a Discord rate limit', {
        retryAfterMs: p.until - now + ORDER_MARGIN_MS,
      });
    }
  }

  private toDeliveryError(err: unknown, chatJid: string, idemKey: string): DeliveryError {
    if (err instanceof DeliveryError) return err;
    if (err instanceof RateLimitError) {
      const ms = Math.max(1, Math.ceil(err.retryAfter));
      this.deps.limiter.pause(ms, err.global ? undefined : chatJid);
      this.pauses.set(err.global ? '*' : chatJid, { until: this.now() + ms, key: idemKey });
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
