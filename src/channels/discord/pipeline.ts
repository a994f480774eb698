import type { Client, Message } from 'discord.js';
import type { Logger } from 'pino';
import type { InboundSink } from '../channel.js';
import { messagesAfter } from './catch-up.js';
import type { ChannelCursors } from './cursors.js';
import { downloadAttachments } from './downloads.js';
import { toInbound, type BotIdentity, type MappedMessage } from './inbound.js';
import { viewOf } from './message-view.js';

/** Channels caught up after a fresh session: the most recently active ones. */
const CATCH_UP_CHANNELS = 50;
/** Message ids remembered as handled (a live message can also come in a catch-up page). */
const SEEN_MAX = 1000;

export interface PipelineOptions {
  sink: InboundSink;
  cursors: ChannelCursors;
  attachmentMaxBytes: number;
  log: Logger;
  /** A failure worth showing in health. */
  onError(what: string): void;
}

/**
 * Inbound Discord messages → the sink, one at a time per channel, in arrival order: mapped,
 * attachments downloaded, stored; only then the channel's cursor moves past the message. The
 * gateway has no per-message acknowledgement, so this order is what "store before ack" means
 * here, and the cursor is what catching up after a fresh session starts from.
 */
export class InboundPipeline {
  /** Per channel, the promise of its last queued work. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Recently handled message ids, oldest first. */
  private readonly seen = new Set<string>();

  constructor(private readonly opts: PipelineOptions) {}

  /** A live message from the gateway. */
  onMessage(message: Message, bot: BotIdentity): void {
    this.enqueue(message.channelId, () => this.handle(message, bot));
  }

  /**
   * After a fresh session (not a resume, which Discord replays itself): fetches what the
   * recently active channels got meanwhile and feeds it through the same path. Queued ahead of
   * live messages of the same channel, so order holds; the store drops what it already has.
   */
  catchUp(client: Client, bot: BotIdentity): void {
    for (const { channelId } of this.opts.cursors.recent(CATCH_UP_CHANNELS)) {
      this.enqueue(channelId, async () => {
        const after = this.opts.cursors.get(channelId);
        if (!after) return;
        const found = await messagesAfter(client, channelId, after).catch((err: unknown) => {
          this.opts.onError(`catching up on discord:${channelId}: ${(err as Error).message}`);
          return [] as Message[];
        });
        if (found === 'gone') {
          this.opts.cursors.forget(channelId);
          return;
        }
        if (found.length)
          this.opts.log.info({ chat: `discord:${channelId}`, count: found.length }, 'caught up');
        for (const m of found) await this.handle(m, bot);
      });
    }
  }

  /** Waits for everything queued (at shutdown) and writes the cursors. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    this.opts.cursors.flush();
  }

  private enqueue(channelId: string, work: () => Promise<void>): void {
    const next = (this.chains.get(channelId) ?? Promise.resolve()).then(work);
    this.chains.set(channelId, next);
    void next.finally(() => {
      if (this.chains.get(channelId) === next) this.chains.delete(channelId);
    });
  }

  private async handle(message: Message, bot: BotIdentity): Promise<void> {
    if (this.seen.has(message.id)) return;
    let mapped: MappedMessage | null;
    try {
      // A server channel discord.js has not cached (a thread it never saw) arrives without a
      // name: fetch it once so the chat is listed under its real name for discovery.
      const channel = message.channel;
      if (message.guildId && !('name' in channel && channel.name))
        await channel.fetch().catch(() => undefined);
      mapped = toInbound(viewOf(message), bot);
    } catch (err) {
      this.opts.onError(`could not read a Discord message: ${(err as Error).message}`);
      return;
    }
    if (mapped && !(await this.store(mapped))) return;
    this.opts.cursors.advance(message.channelId, message.id);
    this.seen.add(message.id);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
  }

  /** Hands one message to the sink; false when it could not be stored. */
  private async store({ inbound, attachments }: MappedMessage): Promise<boolean> {
    const { files, notes } = attachments.length
      ? await downloadAttachments(attachments, { maxBytes: this.opts.attachmentMaxBytes })
      : { files: [], notes: [] };
    const text = [inbound.text, ...notes].filter(Boolean).join('\n');
    try {
      await this.opts.sink.receive({
        ...inbound,
        text,
        attachments: files.length ? files : undefined,
      });
      return true;
    } catch (err) {
      const why = (err as Error).message;
      this.opts.onError(`storing a message from ${inbound.chatId}: ${why}`);
      this.opts.log.error(
        { chat: inbound.chatId, platformId: inbound.platformId, err: why },
        'a Discord message could not be stored',
      );
      return false;
    }
  }
}
