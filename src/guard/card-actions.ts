/**
 * The approval card's buttons, for channels that have them: which answers a card offers (the
 * same three as the `yes N` / `always N` / `no N` syntax, worded for its kind), the opaque id a
 * press carries back, the outbox keys a card travels under, and the card's text once decided
 * (what an edit shows in place of the buttons).
 */
import type { ApprovalDecision, ApprovalRecord } from '../store/approvals.js';
import { decidedText } from './guard.js';

/** One button (structurally a channel's MessageAction). */
export interface CardAction {
  id: string;
  label: string;
  style?: 'primary' | 'danger';
}

const LABELS: Record<string, Record<ApprovalDecision, string>> = {
  budget: { once: 'Raise once', always: 'Raise the cap', deny: 'Skip' },
  sender: { once: 'Let in once', always: 'Add to senders', deny: 'Ignore' },
};
const DEFAULT_LABELS: Record<ApprovalDecision, string> = {
  once: 'Allow once',
  always: 'Allow always',
  deny: 'Deny',
};

/** The id a button of approval `id` carries (`approval:7:once`; well under 64 bytes). */
export const actionIdOf = (id: number, decision: ApprovalDecision) => `approval:${id}:${decision}`;

/** The approval and decision a pressed button stands for; undefined when it is not ours. */
export function parseActionId(
  actionId: string,
): { id: number; decision: ApprovalDecision } | undefined {
  const m = /^approval:(\d{1,12}):(once|always|deny)$/.exec(actionId);
  return m ? { id: Number(m[1]), decision: m[2] as ApprovalDecision } : undefined;
}

/** The buttons of a card for an approval of `kind`. */
export function cardActions(id: number, kind: string): CardAction[] {
  const labels = LABELS[kind] ?? DEFAULT_LABELS;
  return [
    { id: actionIdOf(id, 'once'), label: labels.once, style: 'primary' },
    { id: actionIdOf(id, 'always'), label: labels.always },
    { id: actionIdOf(id, 'deny'), label: labels.deny, style: 'danger' },
  ];
}

/**
 * The approval a card's outbox key belongs to: `approval:<id>:card` (where the owner is) and
 * `approval:<id>:fallback:<chat>` (an approver's copy), each split as `<key>#<n>` when long.
 */
export function cardKeyOf(
  idemKey: string,
): { id: number; base: string; piece?: number } | undefined {
  const m = /^(approval:(\d{1,12}):(?:card|fallback:.+?))(?:#(\d+))?$/.exec(idemKey);
  if (!m) return undefined;
  return { id: Number(m[2]), base: m[1]!, ...(m[3] ? { piece: Number(m[3]) } : {}) };
}

/**
 * The card once decided: what it asked (its first lines) and who decided how, without the
 * reply syntax and the deadline (both moot now).
 */
export function decidedCard(a: ApprovalRecord): string {
  const kept = a.card
    .split('\n')
    .filter((l) => !l.startsWith('Reply "yes ') && !l.startsWith('No answer by '));
  return [...kept, decidedText(a)].join('\n');
}
