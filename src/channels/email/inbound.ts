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

function referencesOf(mail: ParsedMail): string[] {
  const r = mail.references;
  return Array.isArray(r) ? r : r ? r.split(/\s+/).filter(Boolean) : [];
}

/** A parsed mail mapped for the sink, plus what threading a reply needs. */
export interface MappedMail {
  inbound: Inbound;
  messageId: string;
  subject: string;
  references: string[];
}

/**
 * Maps a parsed mail to an Inbound: chat and sender `mail:<from address>`, `direct`, always
 * `mentioned` (every mail to the bot is addressed to it). The body is wrapped as untrusted
 * content (`<untrusted_email from subject>`, XML-escaped) so the agent can tell it from
 * instructions. Returns null for mail without a sender address or sent by the bot itself.
 */
export function mapMail(
  mail: ParsedMail,
  opts: { uidValidity: string; uid: number; botAddress: string; receivedAt: number },
): MappedMail | null {
  const from = firstAddress(mail.from);
  if (!from?.address) return null;
  const address = from.address.toLowerCase();
  if (address === opts.botAddress) return null;
  const jid = mailJid(address);
  const messageId = mail.messageId ?? `<uid-${opts.uidValidity}-${opts.uid}@clawpod.invalid>`;
  const subject = mail.subject ?? '';
  let body = (mail.text ?? '').trim();
  if (!body && typeof mail.html === 'string') body = mail.html.replace(/<[^>]*>/g, ' ').trim();
  if (body.length > MAX_BODY_CHARS)
    body = `${body.slice(0, MAX_BODY_CHARS)}\n[… ${body.length - MAX_BODY_CHARS} more characters cut]`;
  const text =
    `<untrusted_email from="${escapeXml(address)}" subject="${escapeXml(subject)}">\n` +
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
    inbound: {
      chatJid: jid,
      platformId: messageId,
      sender: jid,
      senderName: from.name || address,
      text,
      ts: mail.date?.getTime() ?? opts.receivedAt,
      replyTo: messageId,
      mentioned: true,
      chatName: from.name ? `${from.name} <${address}>` : address,
      chatKind: 'direct',
      ...(attachments.length ? { attachments } : {}),
    },
  };
}
