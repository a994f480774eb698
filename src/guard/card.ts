/**
 * The approval card: the text a human reads before deciding. It shows the full effect (every
 * argument), why it asks (a rule, the daily limit, or the turn's taint), what `always` would
 * write, and when silence becomes a deny.
 */
import { formatLocalTime } from '../conversation/prompt.js';
import { effectLines, summaryOf, type GuardAction } from './actions.js';
import { answerHint } from './answers.js';
import { CARD_VALUE_LIMIT } from './tool-card.js';

/** The rule an `always` answer writes (kind + pattern), or undefined when it writes none. */
export function alwaysRule(
  a: GuardAction,
): { kind: GuardAction['kind']; pattern: string } | undefined {
  switch (a.kind) {
    case 'egress':
      return {
        kind: 'egress',
        pattern: a.port === 80 || a.port === 443 ? a.host : `${a.host}:${a.port}`,
      };
    case 'tool': {
      if (a.tool === 'WebFetch' && typeof a.input.url === 'string') {
        try {
          return { kind: 'tool', pattern: `WebFetch(domain:${new URL(a.input.url).hostname})` };
        } catch {
          return { kind: 'tool', pattern: a.tool };
        }
      }
      const subject = a.input.command ?? a.input.file_path ?? a.input.notebook_path;
      return {
        kind: 'tool',
        pattern: typeof subject === 'string' ? `${a.tool}(${subject})` : a.tool,
      };
    }
    case 'command':
      return { kind: 'command', pattern: a.command };
    case 'send_message':
      return { kind: 'send_message', pattern: a.chat };
    case 'schedule_task':
      return { kind: 'schedule_task', pattern: a.schedule };
    case 'register_group':
      return { kind: 'register_group', pattern: a.name };
    case 'delegate':
      return { kind: 'delegate', pattern: a.group };
    case 'budget':
    case 'sender':
      return undefined;
  }
}

/** What `always N` does, in the card's words. */
export function alwaysMeaning(a: GuardAction, group: string): string {
  if (a.kind === 'budget') return 'raise the cap';
  if (a.kind === 'sender') return `add ${a.sender} to group "${group}"'s senders`;
  if (a.kind === 'egress') return `add ${alwaysRule(a)!.pattern} to group "${group}"'s egress list`;
  return `allow ${alwaysRule(a)!.pattern} for group "${group}" from now on`;
}

export interface CardInput {
  id: number;
  group: string;
  action: GuardAction;
  taint: readonly string[];
  expiresAt: number;
  timezone: string;
  /** Sender pairing: the code the sender was given. */
  code?: string | null;
}

/** The text card sent to where the owner is. */
export function renderCard(c: CardInput): string {
  const lines = [
    `🔐 Approval #${c.id}: group "${c.group}" wants to ${summaryOf(c.action)}.`,
    ...effectLines(c.action, CARD_VALUE_LIMIT),
  ];
  if (c.code) lines.push(`Code the sender was given: ${c.code}`);
  if (c.taint.length) lines.push(`⚠️ Asked because the turn is tainted: ${c.taint.join('; ')}.`);
  lines.push(
    answerHint(c.id, alwaysMeaning(c.action, c.group)),
    `No answer by ${formatLocalTime(c.expiresAt, c.timezone)} counts as no.`,
  );
  return lines.join('\n');
}
