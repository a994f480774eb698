/**
 * The guard at intake (the router calls it): a message that is an answer to an approval
 * (`yes 7`, `always 7`, `no 7`) from someone who may answer decides it and wakes nothing; a
 * message from a sender a group does not know, where its policy is `ask`, opens a pairing
 * approval. Approving the sender lets their held messages in and wakes the group.
 */
import type { Logger } from 'pino';
import type { GroupService } from '../groups/group-service.js';
import type { Group } from '../store/group-schema.js';
import type { Store } from '../store/store.js';
import type { SenderAction } from './actions.js';
import { parseAnswer } from './answers.js';
import { decidedText, type Guard } from './guard.js';

/** What the router needs (see RouterOptions.guard). */
export interface IntakeGuard {
  /** True when `msg` is an approval answer its sender may give (store it quiet, then `answer`). */
  isAnswer(msg: { text: string; sender: string; isBot?: boolean }): boolean;
  /** Decides from a stored answer message; returns why the message wakes nothing. */
  answer(msg: { text: string; sender: string; chatId: string }): string;
  /** A sender `group` does not know wrote (policy `ask`); their message is stored excluded. */
  unknownSender(
    group: Group,
    msg: { chatId: string; sender: string; senderName?: string | null; text: string },
    seq: number,
  ): void;
}

export interface IntakeDeps {
  guard: Guard;
  store: Store;
  groups: GroupService;
  outbox: { enqueue(item: { key: string; chatId: string; text: string }): number; kick(): void };
  /** A chat has messages that wake its group now (the daemon queues the turn). */
  onWake(group: string, chat: string): void;
  log: Logger;
}

export function intakeGuard(deps: IntakeDeps): IntakeGuard {
  const { guard, store, outbox } = deps;
  guard.onAllowed('sender', (a, decision) => {
    const action = a.effect as SenderAction;
    if (decision === 'always') {
      const g = store.groups.get(a.group);
      const allow = g?.senders?.allow;
      if (g && Array.isArray(allow) && !allow.includes(action.sender)) {
        deps.groups.update(a.group, {
          senders: { ...g.senders!, allow: [...allow, action.sender] },
        });
      }
    }
    const admitted = store.messages.admitSender(action.chat, action.sender, action.seq);
    deps.log.info({ group: a.group, sender: action.sender, admitted }, 'sender approved');
    if (admitted) deps.onWake(a.group, action.chat);
  });
  return {
    isAnswer(msg) {
      if (msg.isBot) return false;
      const parsed = parseAnswer(msg.text);
      if (!parsed) return false;
      // The owner's answer is one even to a number that does not exist (it is told so);
      // an approver's only to an approval of a group they approve for.
      const a = store.approvals.get(parsed.id);
      return guard.mayAnswer(a ?? { group: '' }, msg.sender);
    },
    answer(msg) {
      const parsed = parseAnswer(msg.text)!;
      const r = guard.answer(parsed.id, parsed.decision, msg.sender);
      // The card's chat hears the decision from the guard; an answer from elsewhere, or one
      // that came too late, is answered where it was given.
      const told = r.ok ? r.approval.askedIn : undefined;
      if (told !== msg.chatId) {
        const text = r.ok
          ? decidedText(r.approval)
          : r.approval
            ? decidedText(r.approval)
            : r.message;
        const n = r.ok ? 'ok' : `late:${Date.now()}`;
        outbox.enqueue({
          key: `approval:${parsed.id}:answer:${msg.chatId}:${n}`,
          chatId: msg.chatId,
          text,
        });
        outbox.kick();
      }
      return r.ok
        ? `an answer to approval #${parsed.id} (${r.approval.status})`
        : `an answer to approval #${parsed.id}, not taken: ${r.message}`;
    },
    unknownSender(group, msg, seq) {
      const action: SenderAction = {
        kind: 'sender',
        chat: msg.chatId,
        sender: msg.sender,
        senderName: msg.senderName ?? null,
        preview: msg.text.length > 300 ? `${msg.text.slice(0, 300)}…` : msg.text,
        seq,
      };
      // The decision's hook admits the sender; nobody waits on the promise here.
      const r = guard.request(action, { group: group.folder, chat: msg.chatId });
      if (r.verdict === 'ask') void r.decided;
    },
  };
}
