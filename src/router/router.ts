import type { Logger } from 'pino';
import { saveAttachments } from '../channels/attachments.js';
import type { Inbound, InboundSink } from '../channels/channel.js';
import type { EventBus } from '../events/bus.js';
import type { Group } from '../groups/group-schema.js';
import { storageError, storageProblemOf } from '../store/storage-errors.js';
import type { Store } from '../store/store.js';
import { isTriggered } from './trigger.js';

export interface RouterOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  assistantName: string;
  /** Where group folders live (attachments are saved there). */
  groupsDir: string;
  /** Largest attachment saved, in bytes. */
  attachmentMaxBytes: number;
  /** Called for a group that has a new triggering message. */
  onTriggered(folder: string): void;
  now?: () => number;
}

/** Whether a group's sender allowlist lets `sender` wake it. */
export function senderAllowed(group: Pick<Group, 'senders'>, sender: string): boolean {
  const policy = group.senders;
  return !policy || policy.allow === 'all' || policy.allow.includes(sender);
}

/**
 * Inbound decisions. Store first (deduplicated on chat + platform id, on disk before `receive`
 * resolves; a storage failure rejects with a StorageUnavailableError), decide second:
 * unbound chats are kept for discovery, untriggered messages stay as context, senders outside a
 * group's allowlist are dropped or kept for the record only, as the group says.
 */
export class Router implements InboundSink {
  private accepting = true;

  constructor(private readonly opts: RouterOptions) {}

  /** After this, new messages are still stored (nothing is lost) but start no run. */
  stopIntake(): void {
    this.accepting = false;
  }

  async receive(msg: Inbound): Promise<{ seq: number; duplicate: boolean; dropped?: boolean }> {
    const { store, bus, log } = this.opts;
    const now = this.opts.now?.() ?? Date.now();
    const group = msg.isBot ? undefined : store.groups.groupForChat(msg.chatJid);
    const allowed = !group || senderAllowed(group, msg.sender);
    if (group && !allowed && group.senders?.others === 'drop') {
      log.info(
        { group: group.folder, chat: msg.chatJid },
        'message from a sender outside the allowlist dropped',
      );
      return { seq: 0, duplicate: false, dropped: true };
    }
    let text = msg.text;
    if (group && allowed && msg.attachments?.length) {
      const lines = await saveAttachments({
        groupsDir: this.opts.groupsDir,
        folder: group.folder,
        chatJid: msg.chatJid,
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
    // On disk (fsynced) before the caller acknowledges: a 202, a channel's ack.
    const res = await store.commit(() => {
      store.chats.touch(msg.chatJid, { name: msg.chatName, kind: msg.chatKind }, now);
      return store.messages.insert({ ...msg, text, excluded: !allowed });
    });
    if (!res.inserted) return { seq: res.seq, duplicate: true };
    const stored = store.messages.get(res.seq);
    if (stored) bus.emit('message', stored);
    if (msg.isBot) return { seq: res.seq, duplicate: false };
    if (!group) {
      log.info({ chat: msg.chatJid }, 'message from an unbound chat stored for discovery');
    } else if (!allowed) {
      log.info(
        { group: group.folder, chat: msg.chatJid },
        'message from a sender outside the allowlist kept for the record',
      );
    } else if (
      this.accepting &&
      (msg.mentioned || isTriggered(text, group, this.opts.assistantName))
    ) {
      this.opts.onTriggered(group.folder);
    }
    return { seq: res.seq, duplicate: false };
  }
}
