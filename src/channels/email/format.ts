import { createHash } from 'node:crypto';
import type { ThreadInfo } from './state.js';

/**
 * How a reply looks as a mail. The body is the reply's text as the model wrote it (plain text:
 * mail clients show Markdown marks as they are). The headers thread it to the mail it answers
 * and mark it as automatic.
 */

/** RFC 3834 §5: marks clawpod's mail as automatic, so vacation responders stay quiet. */
export const AUTO_REPLY_HEADERS = {
  'Auto-Submitted': 'auto-replied',
  // Exchange/Outlook's own switch for out-of-office and other automatic answers.
  'X-Auto-Response-Suppress': 'All',
} as const;

/**
 * The Message-ID of a reply piece, derived from its idempotency key: a retried piece carries the
 * same id, so mail clients show it once.
 */
export function replyMessageId(idemKey: string, domain: string): string {
  return `<${createHash('sha256').update(idemKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/** `Re: <the subject answered>` (not doubled), or `Reply` when there is none. */
export function replySubject(parent: ThreadInfo | undefined): string {
  const base = parent?.subject ?? '';
  return base ? (/^re:/i.test(base) ? base : `Re: ${base}`) : 'Reply';
}

/** The References of a reply: the answered mail's thread, or at least the mail itself. */
export function replyReferences(parent: ThreadInfo | undefined): string[] {
  return parent?.references.length ? parent.references : parent ? [parent.messageId] : [];
}
