import type { Logger } from 'pino';
import type { Inbound, InboundSink } from '../channels/channel.js';
import type { EventBus } from '../events/bus.js';
import type { Store } from '../store/store.js';
import { isTriggered } from './trigger.js';

export interface RouterOptions {
  store: Store;
  bus: EventBus;
  log: Logger;
  assistantName: string;
  /** Called for a group that has a new triggering message. */
  onTriggered(folder: string): void;
  now?: () => number;
}

/**
 * Inbound decisions. Store first (deduplicated on chat + platform id), decide second:
 * unbound chats are kept for discovery, untriggered messages stay as context.
 */
export class Router implements InboundSink {
  private accepting = true;

  constructor(private readonly opts: RouterOptions) {}

  /** After this, new messages are still stored (nothing is lost) but start no run. */
  stopIntake(): void {
    this.accepting = false;
  }

  async receive(msg: Inbound): Promise<{ seq: number; duplicate: boolean }> {
    const { store, bus, log } = this.opts;
    const now = this.opts.now?.() ?? Date.now();
    const res = store.tx(() => {
      store.chats.touch(msg.chatJid, { name: msg.chatName, kind: msg.chatKind }, now);
      return store.messages.insert(msg);
    });
    if (!res.inserted) return { seq: res.seq, duplicate: true };
    const stored = store.messages.get(res.seq);
    if (stored) bus.emit('message', stored);
    if (msg.isBot) return { seq: res.seq, duplicate: false };
    const group = store.groups.groupForChat(msg.chatJid);
    if (!group) {
      log.info({ chat: msg.chatJid }, 'message from an unbound chat stored for discovery');
    } else if (
      this.accepting &&
      (msg.mentioned || isTriggered(msg.text, group, this.opts.assistantName))
    ) {
      this.opts.onTriggered(group.folder);
    }
    return { seq: res.seq, duplicate: false };
  }
}
