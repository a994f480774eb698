import type { StoredMessage } from '../store/messages.js';
import type { SenderRole } from './senders.js';

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/**
 * One formatter per zone: building an Intl.DateTimeFormat costs about a millisecond, which a
 * prompt of 50 messages paid 50 times on the event loop.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** `2026-11-26 14:05 GMT+1`-style local time in the configured zone (offset shown). */
export function formatLocalTime(ts: number, timezone: string): string {
  const parts = formatterFor(timezone).formatToParts(new Date(ts));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

export interface PromptOptions {
  timezone: string;
  /** Most messages shown; older ones are counted in a note, never dropped silently. */
  maxMessages: number;
  /** Each sender's role (from its stable id); shown so a display name cannot pose as the owner. */
  roleOf?: (sender: string) => SenderRole;
}

/**
 * Renders a batch of stored messages as the XML envelope an agent reads: each message with its
 * platform id, chat, sender's display name, stable sender id and role, and local time. Every
 * attribute and body is XML-escaped; bot messages must already be excluded by the caller.
 */
export function formatPrompt(messages: StoredMessage[], opts: PromptOptions): string {
  const hidden = Math.max(0, messages.length - opts.maxMessages);
  const shown = messages.slice(hidden);
  const lines = ['<messages>'];
  if (hidden > 0) lines.push(`<note>${hidden} earlier messages not shown</note>`);
  for (const m of shown) {
    const attrs = [
      `id="${escapeXml(m.platformId)}"`,
      `chat="${escapeXml(m.chatId)}"`,
      `sender="${escapeXml(m.senderName ?? m.sender)}"`,
      `sender_id="${escapeXml(m.sender)}"`,
      ...(opts.roleOf ? [`role="${opts.roleOf(m.sender)}"`] : []),
      `time="${escapeXml(formatLocalTime(m.ts, opts.timezone))}"`,
    ];
    if (m.replyTo) attrs.push(`reply_to="${escapeXml(m.replyTo)}"`);
    lines.push(`<message ${attrs.join(' ')}>${escapeXml(m.text)}</message>`);
  }
  lines.push('</messages>');
  return lines.join('\n');
}
