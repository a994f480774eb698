import type { Logger } from 'pino';
import { saveAttachments } from '../channels/attachments.js';
import type {
  ActionPress,
  Inbound,
  InboundSink,
  IntakeResult,
  PressAnswer,
} from '../channels/channel.js';
import type { EventBus } from '../events/bus.js';
import { storageError, storageProblemOf } from '../store/storage-errors.js';
import type { Store } from '../store/store.js';
import { effectiveSenders, senderAllowed } from '../conversation/senders.js';
import { effectiveTrigger, isTriggered } from '../conversation/trigger.js';
import type { IntakeGuard } from '../guard/intake.js';
import { tellsOwnerOfNewChat } from './new-chat-notice.js';

export interface RouterOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  assistantName: string;
  /** The owner's sender ids (config `owner.ids`): only they wake `main` by default. */
  ownerIds: readonly string[];
  /** Where group folders live (attachments are saved there). */
  groupsDir: string;
  /** Largest attachment saved, in bytes. */
  attachmentMaxBytes: number;
  /** A chat has a new message that wakes its group (stored, `wakes` set). */
  onWake(group: string, chat: string): void;
  /**
   * A chat no group is bound to addressed the bot (see tellsOwnerOfNewChat); called after the
   * message is stored, for each such message: telling the owner once per chat is the callee's.
   */
  onNewChat?(msg: Inbound): void;
  /** Approval answers and unknown senders (src/guard/intake.ts); absent: neither. */
  guard?: IntakeGuard;
  now?: () => number;
}

/**
 * Inbound decisions, made once and stored with the message: unbound chats are kept for
 * discovery, senders outside a group's allowlist are dropped or kept for the record only (as
 * the group says), and whether the message wakes the group (`wakes`: trigger word, native
 * mention, or a trigger-free chat; never an automatic message such as an auto-reply or a
 * mailing list, which stays context) is decided here and never again. Stored (deduplicated on
 * chat + platform id) on disk before `receive` resolves; a storage failure rejects with a
 * StorageUnavailableError.
 */
export class Router implements InboundSink {
  private accepting = true;

  constructor(private readonly opts: RouterOptions) {}

  /** After this, new messages are still stored (nothing is lost) but start no run. */
  stopIntake(): void {
    this.accepting = false;
  }

  async receive(msg: Inbound): Promise<IntakeResult> {
    const { store, log } = this.opts;
    const now = this.opts.now?.() ?? Date.now();
    // An approval answer (`yes 7`) from whoever may give it is stored but never a prompt.
    if (this.opts.guard?.isAnswer(msg)) return this.answer(msg, now);
    const group = msg.isBot ? undefined : store.groups.groupForChat(msg.chatId);
    const allowed = !group || senderAllowed(group, msg.sender, this.opts.ownerIds);
    if (group && !allowed && effectiveSenders(group, this.opts.ownerIds)?.others === 'drop') {
      log.info(
        { group: group.folder, chat: msg.chatId },
        'message from a sender outside the allowlist dropped',
      );
      return {
        seq: 0,
        duplicate: false,
        dropped: true,
        wakes: false,
        quiet: `sender ${msg.sender} is not on group "${group.folder}"'s senders list (dropped)`,
      };
    }
    let text = msg.text;
    if (group && allowed && msg.attachments?.length) {
      const lines = await saveAttachments({
        groupsDir: this.opts.groupsDir,
        folder: group.folder,
        chatId: msg.chatId,
        platformId: msg.platformId,
        attachments: msg.attachments,
        maxBytes: this.opts.attachmentMaxBytes,
      }).catch((err: unknown) => {
        // A full disk refuses the whole message rather than keeping it without its files (a
        // channel that acknowledges only after storage gets it again later).
        if (storageProblemOf(err) === 'disk_full') {
          const failure = storageError(err, { file: store.where.file, dir: this.opts.groupsDir });
          store.health.failed(failure);
          throw failure;
        }
        log.warn({ err, group: group.folder }, 'attachments could not be saved');
        return [`[attachments could not be saved: ${(err as Error).message}]`];
      });
      text = [text, ...lines].filter(Boolean).join('\n');
    }
    const wakes =
      !msg.isBot &&
      !msg.automatic &&
      group !== undefined &&
      allowed &&
      (Boolean(msg.mentioned) || isTriggered(text, group, this.opts.assistantName));
    const res = await this.keep({ ...msg, text }, { excluded: !allowed, wakes }, now);
    if (!res.inserted)
      return { seq: res.seq, duplicate: true, wakes: false, quiet: 'a redelivery' };
    const done = (quiet?: string): IntakeResult => ({
      seq: res.seq,
      duplicate: false,
      wakes: quiet === undefined,
      ...(quiet === undefined ? {} : { quiet }),
    });
    if (msg.isBot) return done('a message of the bot itself');
    if (!group) {
      log.info({ chat: msg.chatId }, 'message from an unbound chat stored for discovery');
      if (tellsOwnerOfNewChat(msg)) this.opts.onNewChat?.({ ...msg, text });
      return done(
        `no group is bound to ${msg.chatId}; it is kept for discovery (clawpod groups bind <group> ${msg.chatId})`,
      );
    }
    if (!allowed) {
      if (effectiveSenders(group, this.opts.ownerIds)?.others === 'ask') {
        this.opts.guard?.unknownSender(group, { ...msg, text }, res.seq);
        return done(
          `sender ${msg.sender} is not on group "${group.folder}"'s senders list; the owner is asked (pairing)`,
        );
      }
      log.info(
        { group: group.folder, chat: msg.chatId },
        'message from a sender outside the allowlist kept for the record',
      );
      return done(
        group.isMain && !group.senders
          ? `sender ${msg.sender} is not the owner: only owner.ids wake main (kept for the record)`
          : `sender ${msg.sender} is not on group "${group.folder}"'s senders list (kept for the record)`,
      );
    }
    if (msg.automatic) {
      log.info(
        { group: group.folder, chat: msg.chatId, why: msg.automatic },
        'automatic message kept as context; it starts no run',
      );
      return done(`an automatic message (${msg.automatic}) is kept as context`);
    }
    if (!wakes)
      return done(
        `it does not start with the trigger ${effectiveTrigger(group, this.opts.assistantName)} (kept as context for the next one)`,
      );
    if (this.accepting) this.opts.onWake(group.folder, msg.chatId);
    return done();
  }

  /**
   * A button press (an approval card's answer). Decided by the guard at once; nothing is
   * stored as a message and nothing wakes. Without a guard every press is refused.
   */
  async press(p: ActionPress): Promise<PressAnswer> {
    if (!this.opts.guard) return { text: 'Buttons are not handled here.' };
    return this.opts.guard.press(p);
  }

  /** Stores an approval answer (excluded from prompts, waking nothing), then decides by it. */
  private async answer(msg: Inbound, now: number): Promise<IntakeResult> {
    const res = await this.keep(msg, { excluded: true, wakes: false }, now);
    if (!res.inserted)
      return { seq: res.seq, duplicate: true, wakes: false, quiet: 'a redelivery' };
    const quiet = this.opts.guard!.answer(msg);
    return { seq: res.seq, duplicate: false, wakes: false, quiet };
  }

  /**
   * Stores `msg` with its chat and cursor, on disk (fsynced) before the caller acknowledges (a
   * 202, a channel's ack), and announces it; a redelivery is stored once (`inserted: false`).
   */
  private async keep(
    msg: Inbound,
    decided: { excluded: boolean; wakes: boolean },
    now: number,
  ): Promise<{ seq: number; inserted: boolean }> {
    const { store, bus } = this.opts;
    const res = await store.commit(() => {
      store.chats.touch(msg.chatId, { name: msg.chatName, kind: msg.chatKind }, now);
      const inserted = store.messages.insert({ ...msg, ...decided });
      if (inserted.inserted) store.cursors.ensure(msg.chatId, inserted.seq);
      return inserted;
    });
    if (res.inserted) {
      const stored = store.messages.get(res.seq);
      if (stored) bus.emit('message', stored);
    }
    return res;
  }
}
