import type { WAMessage } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { InboundAttachment } from '../attachments.js';
import type { Inbound } from '../channel.js';
import { bareJid, declaredSize, mapMessage, unwrap } from './inbound.js';
import type { WaSocket } from './types.js';

export interface ReceiveOptions {
  /** Self mode's `<assistant>: ` prefix, or null. */
  selfPrefix: string | null;
  /** Media over this declared size is not downloaded (config `attachments.maxBytes`). */
  maxBytes: number;
  log: Logger;
  /** True for the echo of a text the adapter is sending right now. */
  isEcho: (m: Inbound) => boolean;
}

/**
 * One Baileys message as an Inbound ready for the sink, its media downloaded through the
 * socket; null for what is not stored (not a chat message, or the echo of our own send).
 */
export async function toInbound(
  msg: WAMessage,
  sock: WaSocket,
  opts: ReceiveOptions,
): Promise<Inbound | null> {
  const user = sock.user;
  const mapped = mapMessage(msg, {
    jid: user ? bareJid(user.id) : '',
    lid: user?.lid ? bareJid(user.lid) : undefined,
    selfPrefix: opts.selfPrefix,
  });
  if (!mapped) return null;
  if (msg.key.fromMe && opts.isEcho(mapped.inbound)) return null;
  const inbound = mapped.inbound;
  const note = (line: string) => {
    inbound.text += `${inbound.text ? '\n' : ''}${line}`;
  };
  const media = mapped.media;
  if (!media) return inbound;
  const size = declaredSize(unwrap(msg.message) ?? {});
  if (size > opts.maxBytes) {
    // Not even downloaded: the declared size is over the limit.
    note(`[${media.kind} not saved: ${media.name} (${size} bytes, over the limit)]`);
    return inbound;
  }
  const attachments: InboundAttachment[] = [];
  try {
    const data = await sock.downloadMedia(msg);
    attachments.push({ name: media.name, mime: media.mime, data });
  } catch (err) {
    opts.log.warn(
      { err: (err as Error).message, kind: media.kind },
      'WhatsApp media not downloaded',
    );
    note(`[${media.kind} could not be downloaded]`);
  }
  return attachments.length ? { ...inbound, attachments } : inbound;
}
