import { readFile } from 'node:fs/promises';
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DeliveryError, type MessageAction, type OutboundFile } from '../channel.js';
import type { RateLimiter } from '../rate-limiter.js';
import { cardBlocks, sectionBlocks } from './buttons.js';
import { markdownToMrkdwn, markdownToPlain } from './format.js';
import { REPLY_EVENT_TYPE, type SlackTarget } from './ids.js';
import type { SlackIdentity } from './inbound.js';
import { describeError } from './log.js';
import { TtlCache } from './lookups.js';

/** Refusals of the formatting: the same words are sent again as plain text. */
const FORMAT_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_attachments',
  'markdown_text_conflict',
]);
/** Refusals of the message metadata: sent again without it (then findSent cannot see it). */
const METADATA_ERRORS = new Set([
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
  'metadata_must_be_sent_from_app',
]);
/** Errors no retry can fix: the row is dead-lettered at once. */
const PERMANENT_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'no_text',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'cannot_reply_to_message',
  'team_access_not_granted',
  'ekm_access_denied',
]);

const postedMessages = z.object({
  messages: z
    .array(
      z.object({
        ts: z.string(),
        user: z.string().nullish(),
        bot_id: z.string().nullish(),
        metadata: z
          .object({
            event_type: z.string().nullish(),
            event_payload: z.record(z.string(), z.unknown()).nullish(),
          })
          .nullish(),
      }),
    )
    .nullish(),
});

type WebErr = {
  code?: string;
  data?: { error?: string };
  retryAfter?: number;
  statusCode?: number;
};

function platformError(err: unknown): string | undefined {
  const e = err as WebErr;
  return e?.code === webApi.ErrorCode.PlatformError ? e.data?.error : undefined;
}

type PostArgs = {
  channel: string;
  text: string;
  mrkdwn: boolean;
  blocks?: Array<Record<string, unknown>>;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: { key: string } };
};

/**
 * Posting to Slack for the outbox: one chunk per `chat.postMessage` (Markdown converted to
 * mrkdwn, marked with metadata carrying the idempotency key), files through the external upload
 * flow, and the error mapping the outbox steers by (429 → retryAfterMs, hopeless → permanent).
 */
export class SlackPoster {
  /** Keys whose text went out in this process while their files did not (no second post). */
  private readonly posted = new TtlCache<string>(1000, 3_600_000);
  /** Keys whose last attempt may have reached Slack (timeout, 5xx): look before posting again. */
  private readonly uncertain = new TtlCache<true>(1000, 3_600_000);

  constructor(
    private readonly api: webApi.WebClient,
    private readonly limiter: RateLimiter,
    private readonly identity: () => SlackIdentity | undefined,
    private readonly log: Logger,
  ) {}

  async send(
    target: SlackTarget,
    text: string,
    idemKey: string,
    files: OutboundFile[] = [],
    actions?: readonly MessageAction[],
  ): Promise<{ platformId: string }> {
    let platformId = this.posted.get(idemKey);
    if (!platformId && this.uncertain.has(idemKey))
      platformId = await this.findSent(target, idemKey);
    if (!platformId && text.trim())
      platformId = await this.postText(target, text, idemKey, actions);
    if (platformId) this.posted.set(idemKey, platformId);
    let fileId: string | undefined;
    for (const f of files) {
      const id = await this.upload(target, f, idemKey);
      fileId ??= id;
    }
    this.posted.delete(idemKey);
    this.uncertain.delete(idemKey);
    if (platformId) return { platformId };
    if (fileId) return { platformId: `file:${fileId}` };
    throw new DeliveryError('nothing to send', { permanent: true });
  }

  /** Our earlier post with this key in the chat's recent history (100 messages), if any. */
  async findSent(target: SlackTarget, idemKey: string): Promise<string | undefined> {
    const { channel, threadTs } = target;
    let res: unknown;
    try {
      res = threadTs
        ? await this.api.conversations.replies({
            channel,
            ts: threadTs,
            include_all_metadata: true,
            limit: 200,
          })
        : await this.api.conversations.history({ channel, include_all_metadata: true, limit: 100 });
    } catch (err) {
      throw this.toDeliveryError(err, idemKey);
    }
    const me = this.identity();
    const hit = postedMessages
      .parse(res)
      .messages?.find(
        (m) =>
          m.metadata?.event_type === REPLY_EVENT_TYPE &&
          m.metadata.event_payload?.key === idemKey &&
          (!me || m.user === me.botUserId || (!!m.bot_id && m.bot_id === me.botId)),
      );
    return hit?.ts;
  }

  /** Replaces a posted message's text and blocks (an approval card's buttons go). */
  async update(target: SlackTarget, ts: string, text: string): Promise<void> {
    const mrkdwn = markdownToMrkdwn(text);
    await this.limiter.acquire(target.channel);
    try {
      await this.api.chat.update({
        channel: target.channel,
        ts,
        text: mrkdwn,
        blocks: sectionBlocks(mrkdwn) as never,
      });
    } catch (err) {
      throw this.toDeliveryError(err, `update:${ts}`);
    }
  }

  private async postText(
    target: SlackTarget,
    text: string,
    idemKey: string,
    actions?: readonly MessageAction[],
  ): Promise<string> {
    const mrkdwn = markdownToMrkdwn(text);
    let args: PostArgs = {
      channel: target.channel,
      text: mrkdwn,
      mrkdwn: true,
      ...(actions?.length ? { blocks: cardBlocks(mrkdwn, actions) } : {}),
      ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
      metadata: { event_type: REPLY_EVENT_TYPE, event_payload: { key: idemKey } },
    };
    for (;;) {
      await this.limiter.acquire(target.channel);
      try {
        const res = await this.api.chat.postMessage(args);
        if (!res.ts) throw new DeliveryError('Slack answered without a message ts');
        return res.ts;
      } catch (err) {
        const code = platformError(err);
        if (code && FORMAT_ERRORS.has(code) && args.mrkdwn) {
          this.log.warn({ code }, 'Slack refused the formatted text; sending it as plain text');
          const plain = markdownToPlain(text);
          args = {
            ...args,
            text: plain,
            mrkdwn: false,
            // Refused blocks go (the card's text carries its reply syntax); else plain ones.
            blocks:
              args.blocks && actions && !code.startsWith('invalid_blocks')
                ? cardBlocks(plain, actions)
                : undefined,
          };
          continue;
        }
        if (code && METADATA_ERRORS.has(code) && args.metadata) {
          this.log.warn({ code }, 'Slack refused the message metadata; sending without it');
          const { metadata: _dropped, ...rest } = args;
          args = rest;
          continue;
        }
        throw this.toDeliveryError(err, idemKey);
      }
    }
  }

  private async upload(target: SlackTarget, file: OutboundFile, idemKey: string): Promise<string> {
    const data = await readFile(file.path).catch((err: unknown) => {
      throw new DeliveryError(`file ${file.name} cannot be read: ${describeError(err)}`, {
        permanent: true,
      });
    });
    await this.limiter.acquire(target.channel);
    try {
      const upload = {
        channel_id: target.channel,
        file: data,
        filename: file.name,
        title: file.name,
      };
      const res = await this.api.filesUploadV2(
        target.threadTs ? { ...upload, thread_ts: target.threadTs } : upload,
      );
      const done = z
        .array(z.object({ files: z.array(z.object({ id: z.string() })).nullish() }))
        .parse(res.files);
      return done[0]?.files?.[0]?.id ?? 'unknown';
    } catch (err) {
      throw this.toDeliveryError(err, idemKey);
    }
  }

  /** Maps a Web API failure to what the outbox should do; pauses the limiter on a 429. */
  toDeliveryError(err: unknown, idemKey: string): DeliveryError {
    if (err instanceof DeliveryError) return err;
    const e = err as WebErr;
    if (e?.code === webApi.ErrorCode.RateLimitedError) {
      const ms = Math.max(0, (e.retryAfter ?? 1) * 1000);
      this.limiter.pause(ms);
      return new DeliveryError(`Slack rate limit; retry after ${ms} ms`, { retryAfterMs: ms });
    }
    const code = platformError(err);
    if (code)
      return new DeliveryError(`Slack refused: ${code}`, { permanent: PERMANENT_ERRORS.has(code) });
    if (e?.code === webApi.ErrorCode.RequestError || (e?.statusCode ?? 0) >= 500)
      this.uncertain.set(idemKey, true);
    return new DeliveryError(`Slack request failed: ${describeError(err)}`);
  }
}
