import type { Logger } from 'pino';
import type { MessageAction } from '../channels/channel.js';
import type { ChannelSet } from '../channels/registry.js';
import type { EventBus } from '../events/bus.js';
import { cardActions, cardKeyOf, decidedCard } from '../guard/card-actions.js';
import { decidedText } from '../guard/guard.js';
import type { ApprovalRecord } from '../store/approvals.js';
import type { OutboxItem } from '../store/outbox.js';
import type { Store } from '../store/store.js';
import type { OutboxActions } from './outbox-worker.js';

export interface ApprovalCardsOptions {
  store: Store;
  channels: ChannelSet;
  bus: EventBus;
  log: Logger;
}

/**
 * Approval cards with buttons. The outbox asks, as it sends a card's last piece, which buttons
 * go under it (none once the approval is decided: a late card is plain text). Once decided —
 * by a button, `yes N`, the CLI, the API or expiry — every delivered copy of the card (the
 * owner's, an approver's) is edited on channels that can edit: the decision and who took it
 * replace the buttons. An edit is cosmetic and best effort (the decision is also said in a
 * message of its own); a failed one is logged, and a later press on the stale card edits again.
 */
export class ApprovalCards implements OutboxActions {
  private readonly onApproval = (a: ApprovalRecord) => {
    if (a.status !== 'pending') void this.refresh(a);
  };

  constructor(private readonly opts: ApprovalCardsOptions) {}

  start(): void {
    this.opts.bus.on('approval', this.onApproval);
  }

  stop(): void {
    this.opts.bus.off('approval', this.onApproval);
  }

  for(item: OutboxItem): readonly MessageAction[] | undefined {
    const key = cardKeyOf(item.idemKey);
    if (!key || !this.isButtonPiece(key)) return undefined;
    const a = this.opts.store.approvals.get(key.id);
    return a?.status === 'pending' ? cardActions(a.id, a.kind) : undefined;
  }

  delivered(item: OutboxItem): void {
    // Decided while this card was on its way: take its buttons off now.
    const key = cardKeyOf(item.idemKey);
    if (!key) return;
    const a = this.opts.store.approvals.get(key.id);
    if (a && a.status !== 'pending') void this.refresh(a);
  }

  /** Edits every delivered copy of a decided approval's card (no-op while it is pending). */
  async refresh(a: ApprovalRecord): Promise<void> {
    if (a.status === 'pending') return;
    const { store, channels, log } = this.opts;
    const edits: Array<Promise<void>> = [];
    for (const row of store.outbox.byKeyPrefix(`approval:${a.id}:`)) {
      const key = cardKeyOf(row.idemKey);
      if (!key || key.id !== a.id || !this.isButtonPiece(key)) continue;
      if (row.status !== 'sent' || !row.platformId) continue;
      const channel = channels.forChat(row.chatId);
      if (!channel?.editMessage) continue;
      const full = decidedCard(a);
      // A split card keeps its earlier pieces; its last piece (the buttons') says the decision.
      const text =
        key.piece === undefined && full.length <= channel.limits.maxMessageLength
          ? full
          : decidedText(a);
      edits.push(
        channel.editMessage(row.chatId, row.platformId, text).catch((err: unknown) => {
          log.warn(
            { approval: a.id, chat: row.chatId, err: (err as Error).message },
            'approval card could not be edited',
          );
        }),
      );
    }
    await Promise.all(edits);
  }

  /** Whether this piece of a card carries the buttons (the only piece, or the last one). */
  private isButtonPiece(key: { base: string; piece?: number }): boolean {
    if (key.piece === undefined) return true;
    return !this.opts.store.outbox.byKey(`${key.base}#${key.piece + 1}`);
  }
}
