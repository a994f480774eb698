/**
 * Wire-level helpers of the fake Telegram Bot API: Telegram's HTML parse mode as the Bot API
 * checks it, the mention/command entities it computes for plain text, and the multipart bodies
 * grammY uploads files with.
 */
import type { IncomingMessage } from 'node:http';
import type { MessageEntity } from 'grammy/types';

const ALLOWED_TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'a',
  'code',
  'pre',
  'blockquote',
  'tg-spoiler',
  'span',
  'tg-emoji',
]);
const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Parses Telegram HTML as the Bot API does; the visible text, or the error it would give. */
export function parseTelegramHtml(html: string): { visible: string } | { error: string } {
  const stack: string[] = [];
  let visible = '';
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '<') {
      const m =
        /^<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*>/.exec(
          html.slice(i),
        );
      if (!m) return { error: `Unexpected "<" at byte offset ${i}` };
      const [all, close, rawName] = m;
      const name = rawName!.toLowerCase();
      if (!close) {
        if (!ALLOWED_TAGS.has(name))
          return { error: `Unsupported start tag "${name}" at byte offset ${i}` };
        stack.push(name);
      } else {
        const open = stack.pop();
        if (open !== name)
          return { error: `Can't find end tag corresponding to start tag "${open ?? name}"` };
      }
      i += all.length;
      continue;
    }
    if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i));
      if (!m) return { error: `Character entity expected at byte offset ${i}` };
      const e = m[1]!;
      visible +=
        ENTITY[e] ??
        String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
      i += m[0].length;
      continue;
    }
    visible += c;
    i++;
  }
  if (stack.length)
    return { error: `Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  return { visible };
}

/** Mention and command entities as Telegram computes them for plain text. */
export function autoEntities(text: string): MessageEntity[] {
  const out: MessageEntity[] = [];
  for (const m of text.matchAll(/(^|[^\w@])(@[A-Za-z]\w{3,31})/g))
    out.push({ type: 'mention', offset: m.index! + m[1]!.length, length: m[2]!.length });
  const cmd = /^\/\w+(@\w+)?/.exec(text);
  if (cmd) out.push({ type: 'bot_command', offset: 0, length: cmd[0].length });
  return out.sort((a, b) => a.offset - b.offset);
}

export function parseMultipart(body: Buffer, boundary: string) {
  const fields: Record<string, unknown> = {};
  const files: Record<string, { filename: string; data: Buffer }> = {};
  const delim = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delim);
  while (at >= 0) {
    const start = at + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // strip the CRLFs around the part
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString();
    const data = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename=(?:"([^"]*)"|([^;\r\n]*))/i.exec(head);
    if (name !== undefined) {
      if (filename)
        files[name] = { filename: filename[1] ?? filename[2] ?? '', data: Buffer.from(data) };
      else {
        const text = data.toString();
        try {
          fields[name] = JSON.parse(text);
        } catch {
          fields[name] = text;
        }
      }
    }
    at = next;
  }
  // `photo: "attach://<id>"` points at the file part named <id>.
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' && v.startsWith('attach://')) {
      const f = files[v.slice('attach://'.length)];
      if (f) files[k] = f;
    }
  }
  return { fields, files };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
