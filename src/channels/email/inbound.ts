import { createHash } from 'node:crypto';
import type { AddressObject, ParsedMail } from 'mailparser';
import { escapeXml } from '../../conversation/prompt.js';
import type { Inbound } from '../channel.js';

/** Longest body kept in the stored text; the rest is cut with a note. */
export const MAX_BODY_CHARS = 50_000;

/** The chat (and sender) id of an address: `mail:<address>`, lowercased. */
export const mailJid = (address: string): string => `mail:${address.trim().toLowerCase()}`;

/** The bare address out of `Name <a@b>` or `a@b`, lowercased. */
export function bareAddress(from: string): string {
  const m = /<([^>]+)>/.exec(from);
  return (m ? m[1]! : from).trim().toLowerCase();
}

function firstAddress(obj: AddressObject | AddressObject[] | undefined) {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  for (const o of list) for (const v of o.value) if (v.address) return v;
  return undefined;
}

/** The parent's chain: References, else the In-Reply-To id (RFC 5322 §3.6.4). */
function referencesOf(mail: ParsedMail): string[] {
  const r = mail.references;
  const refs = Array.isArray(r) ? r : r ? r.split(/\s+/).filter(Boolean) : [];
  if (refs.length) return refs;
  const parent = mail.inReplyTo?.trim();
  return parent && /^<[^<>\s]+>$/.test(parent) ? [parent] : [];
}

/** The unfolded value of each raw header named `key` (lowercase). */
function headerValues(mail: ParsedMail, key: string): string[] {
  return mail.headerLines
    .filter((h) => h.key === key)
    .map((h) =>
      h.line
        .slice(h.line.indexOf(':') + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim(),
    );
}

/**
 * Why a mail was sent by a machine, or null for a person's mail (RFC 3834 §2, RFC 2919): an
 * `Auto-Submitted` other than `no` (vacation replies, bounces), `Precedence: bulk|list|junk`,
 * a `List-Id` (mailing lists), `X-Autoreply`/`X-Autorespond`, or an empty `Return-Path` (the
 * null sender of bounces and auto-replies). Such mail is stored as context and never answered,
 * so two robots cannot answer each other forever.
 */
export function automaticReason(mail: ParsedMail): string | null {
  const auto = headerValues(mail, 'auto-submitted')[0];
  if (auto !== undefined && !/^no\b/i.test(auto)) return `Auto-Submitted: ${auto}`;
  const precedence = headerValues(mail, 'precedence')[0];
  if (precedence && /^(bulk|list|junk)\b/i.test(precedence)) return `Precedence: ${precedence}`;
  if (headerValues(mail, 'list-id').length) return 'List-Id';
  for (const h of ['x-autoreply', 'x-autorespond'])
    if (headerValues(mail, h).length) return h === 'x-autoreply' ? 'X-Autoreply' : 'X-Autorespond';
  const returnPath = headerValues(mail, 'return-path')[0];
  if (returnPath !== undefined && /^<\s*>$/.test(returnPath)) return 'empty Return-Path';
  return null;
}

/**
 * The stand-in id of a mail without a Message-ID: a hash of its origin headers and content, so
 * the same mail gets the same id however the server numbers it (a UIDVALIDITY change included)
 * and the store skips it as a duplicate.
 */
export function standInMessageId(mail: ParsedMail): string {
  const h = createHash('sha256');
  for (const key of ['from', 'to', 'cc', 'date', 'subject', 'in-reply-to', 'references'])
    h.update(`${key}:${headerValues(mail, key).join('\n')}\n`);
  h.update(`text:${mail.text ?? ''}\nhtml:${typeof mail.html === 'string' ? mail.html : ''}\n`);
  for (const a of mail.attachments) h.update(`att:${a.filename ?? ''}:${a.size}:${a.checksum}\n`);
  return `<${h.digest('hex').slice(0, 40)}@clawpod.invalid>`;
}

/** A parsed mail mapped for the sink, plus what threading a reply needs. */
export interface MappedMail {
  inbound: Inbound;
  messageId: string;
  subject: string;
  /** The thread before this mail (its References), oldest first. */
  references: string[];
  /** Why it is automatic (never answered), or null. */
  automatic: string | null;
}

/**
 * Maps a parsed mail to an Inbound: chat and sender `mail:<from address>`, `direct`, and
 * `mentioned` (every mail to the bot is addressed to it) unless it is automatic (see
 * `automaticReason`): then it carries `automatic` and is stored as context only. The body is
 * wrapped as untrusted content (`<untrusted_email from subject>`, XML-escaped) so the agent can
 * tell it from instructions. Returns null for mail without a sender address or sent by the bot.
 */
export function mapMail(
  mail: ParsedMail,
  opts: { botAddress: string; receivedAt: number },
): MappedMail | null {
  const from = firstAddress(mail.from);
  if (!from?.address) return null;
  const address = from.address.toLowerCase();
  if (address === opts.botAddress) return null;
  const jid = mailJid(address);
  const messageId = mail.messageId ?? standInMessageId(mail);
  const subject = mail.subject ?? '';
  const automatic = automaticReason(mail);
  let body = (mail.text ?? '').trim();
  if (!body && typeof mail.html === 'string') body = mail.html.replace(/<[^>]*>/g, ' ').trim();
  if (body.length > MAX_BODY_CHARS)
    body = `${body.slice(0, MAX_BODY_CHARS)}\n[… ${body.length - MAX_BODY_CHARS} more characters cut]`;
  const kind = automatic ? ` automatic="${escapeXml(automatic)}"` : '';
  const text =
    `<untrusted_email from="${escapeXml(address)}" subject="${escapeXml(subject)}"${kind}>\n` +
    `${escapeXml(body)}\n</untrusted_email>`;
  const attachments = mail.attachments
    .filter((a) => a.contentDisposition !== 'inline' || a.filename)
    .map((a, i) => ({
      name: a.filename ?? `attachment-${i + 1}`,
      mime: a.contentType,
      data: a.content,
    }));
  return {
    messageId,
    subject,
    references: referencesOf(mail),
    automatic,
    inbound: {
      chatId: jid,
      platformId: messageId,
      sender: jid,
      senderName: from.name || address,
      text,
      ts: mail.date?.getTime() ?? opts.receivedAt,
      replyTo: messageId,
      mentioned: !automatic,
      // Every mail is a complete request: each gets its own turn and reply, threaded to it.
      standalone: true,
      ...(automatic ? { automatic } : {}),
      chatName: from.name ? `${from.name} <${address}>` : address,
      chatKind: 'direct',
      ...(attachments.length ? { attachments } : {}),
    },
  };
}
