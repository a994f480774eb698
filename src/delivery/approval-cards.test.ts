import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../channels/channel.js';
import { ChannelSet } from '../channels/registry.js';
import { EventBus } from '../events/bus.js';
import { cardKeyOf, parseActionId } from '../guard/card-actions.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';
import { ApprovalCards } from './approval-cards.js';

let store: Store;
let edits: Array<{ chat: string; id: string; text: string }>;
let cards: ApprovalCards;

/** A channel that can edit (records the edits); sends are not this unit's business. */
const editing = (prefix: string, max = 4000): Channel => ({
  name: prefix,
  limits: { maxMessageLength: max },
  owns: (jid) => jid.startsWith(`${prefix}:`),
  connect: async () => undefined,
  disconnect: async () => undefined,
  send: async () => ({ platformId: 'x' }),
  health: () => ({ connected: true, lastError: null, lastEventAt: null }),
  editMessage: async (chat, id, text) => {
    edits.push({ chat, id, text });
  },
});

const CARD = [
  '🔐 Approval #1: group "team" wants to send a message to tg:2.',
  'Text: hi',
  'Reply "yes 1" (this once), "always 1" (allow send_message tg:2) or "no 1".',
  'No answer by Mon 10:00 counts as no.',
].join('\n');

function approval(): number {
  return store.approvals.add({
    group: 'team',
    runId: null,
    kind: 'send_message',
    subject: 'tg:2',
    effect: { kind: 'send_message', chat: 'tg:2', text: 'hi' },
    card: CARD,
    taint: [],
    dedupeKey: `k${Math.random()}`,
    askedIn: 'tg:1',
    code: null,
    requestedAt: 1,
    expiresAt: 10_000,
  });
}

const row = (idemKey: string, chatId = 'tg:1') => {
  store.outbox.enqueue({ idemKey, chatId, text: 'card' }, 1);
  return store.outbox.byKey(idemKey)!;
};

beforeEach(() => {
  store = new Store(openDb(':memory:'));
  edits = [];
  cards = new ApprovalCards({
    store,
    channels: new ChannelSet([editing('tg'), editing('dc', 60)]),
    bus: new EventBus(),
    log: pino({ level: 'silent' }),
  });
});

describe('approval card buttons', () => {
  it('a card piece carries the three answers while pending, none once decided (a late card is plain)', () => {
    const id = approval();
    const item = row(`approval:${id}:card`);
    expect(cards.for(item)?.map((a) => [a.label, a.id])).toEqual([
      ['Allow once', `approval:${id}:once`],
      ['Allow always', `approval:${id}:always`],
      ['Deny', `approval:${id}:deny`],
    ]);
    expect(cards.for(row(`approval:${id}:wait`))).toBeUndefined();
    expect(cards.for(row('run:1:0'))).toBeUndefined();
    store.approvals.decide(id, { status: 'denied', decision: 'deny', by: 'owner' }, 2);
    expect(cards.for(item)).toBeUndefined();
  });

  it('only the last piece of a split card carries them; budget and sender cards word them for their kind', () => {
    const id = approval();
    const first = row(`approval:${id}:card#1`);
    const last = row(`approval:${id}:card#2`);
    expect(cards.for(first)).toBeUndefined();
    expect(cards.for(last)).toHaveLength(3);
    const budget = store.approvals.add({
      ...store.approvals.get(id)!,
      kind: 'budget',
      dedupeKey: 'b',
    });
    expect(cards.for(row(`approval:${budget}:card`))?.map((a) => a.label)).toEqual([
      'Raise once',
      'Raise the cap',
      'Skip',
    ]);
  });

  it('once decided, every delivered copy is edited: the decision in place of the reply syntax', async () => {
    const id = approval();
    const own = row(`approval:${id}:card`);
    store.outbox.markSent(own.id, 'm1', 2);
    const approver = row(`approval:${id}:fallback:dc:9`, 'dc:9');
    store.outbox.markSent(approver.id, 'm2', 3);
    row(`approval:${id}:decided`); // not a card
    store.approvals.decide(id, { status: 'allowed', decision: 'once', by: 'tg:7' }, 4);
    await cards.refresh(store.approvals.get(id)!);
    expect(edits).toEqual([
      {
        chat: 'tg:1',
        id: 'm1',
        text: [
          '🔐 Approval #1: group "team" wants to send a message to tg:2.',
          'Text: hi',
          '✅ Approval #1 was allowed once by tg:7.',
        ].join('\n'),
      },
      // Too long for that channel's limit: the decision line alone.
      { chat: 'dc:9', id: 'm2', text: '✅ Approval #1 was allowed once by tg:7.' },
    ]);
  });

  it('ids and keys: what a press and an outbox key stand for', () => {
    expect(parseActionId('approval:12:always')).toEqual({ id: 12, decision: 'always' });
    expect(parseActionId('approval:12:maybe')).toBeUndefined();
    expect(parseActionId('other')).toBeUndefined();
    expect(cardKeyOf('approval:7:card')).toEqual({ id: 7, base: 'approval:7:card' });
    expect(cardKeyOf('approval:7:fallback:tg:5#2')).toEqual({
      id: 7,
      base: 'approval:7:fallback:tg:5',
      piece: 2,
    });
    expect(cardKeyOf('approval:7:decided')).toBeUndefined();
    // The prefix scan does not reach approval 70's rows.
    row('approval:70:card');
    row('approval:7:card');
    expect(store.outbox.byKeyPrefix('approval:7:').map((r) => r.idemKey)).toEqual([
      'approval:7:card',
    ]);
  });
});
