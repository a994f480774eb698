/**
 * The short reply syntax every channel has: `yes 7` (allow once), `always 7` (allow and write
 * the rule), `no 7` (deny). A message that is exactly such an answer (case-insensitive,
 * optional `#`) is a decision, never a prompt: it does not wake the agent.
 */
import type { ApprovalDecision } from '../store/approvals.js';

const WORDS: Record<string, ApprovalDecision> = {
  yes: 'once',
  y: 'once',
  once: 'once',
  allow: 'once',
  always: 'always',
  no: 'deny',
  n: 'deny',
  deny: 'deny',
};

const ANSWER = /^\s*(yes|y|once|allow|always|no|n|deny)\s+#?(\d{1,12})\s*[.!]?\s*$/i;

/** The decision a message's text spells, or undefined when it is not an answer. */
export function parseAnswer(text: string): { id: number; decision: ApprovalDecision } | undefined {
  const m = ANSWER.exec(text);
  if (!m) return undefined;
  return { id: Number(m[2]), decision: WORDS[m[1]!.toLowerCase()]! };
}

/** The answer syntax, for cards. */
export const answerHint = (id: number, always: string) =>
  `Reply "yes ${id}" (this once), "always ${id}" (${always}) or "no ${id}".`;
