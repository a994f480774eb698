import { extname } from 'node:path';
import type { AnyMessageContent } from '@whiskeysockets/baileys';
import type { OutboundFile } from '../channel.js';
import { formatText } from './format.js';

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

/** One outbox piece as WhatsApp messages: the (self-mode prefixed) text, then each file. */
export function outboundContents(
  text: string,
  files: OutboundFile[],
  prefix: string | null,
): AnyMessageContent[] {
  const contents: AnyMessageContent[] = [];
  if (text.trim()) contents.push({ text: formatText(text, prefix) });
  for (const f of files) {
    if (IMAGE.has(extname(f.name).toLowerCase())) contents.push({ image: { url: f.path } });
    else
      contents.push({
        document: { url: f.path },
        fileName: f.name,
        mimetype: 'application/octet-stream',
      });
  }
  return contents;
}
