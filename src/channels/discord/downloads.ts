import { safeFileName, type InboundAttachment } from '../attachments.js';
import type { DiscordAttachmentRef } from './inbound.js';

export interface DownloadResult {
  files: InboundAttachment[];
  /** One line per file not fetched (too large, failed): appended to the message text. */
  notes: string[];
}

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Reads a response body, giving up as soon as it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<Buffer | 'too-large'> {
  if (!res.body) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return 'too-large';
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/**
 * Fetches a message's attachments (images, documents, voice notes: all are files on Discord's
 * CDN). A file Discord says is over `maxBytes` is not downloaded at all; one that turns out larger
 * while streaming is cut off; both get a note instead, as do failures. Only http(s) URLs are
 * fetched. Never throws: a message is stored even when its files cannot be had.
 */
export async function downloadAttachments(
  refs: DiscordAttachmentRef[],
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const doFetch = opts.fetch ?? fetch;
  const result: DownloadResult = { files: [], notes: [] };
  for (const ref of refs) {
    const kind = ref.contentType ?? 'file';
    const skip = (why: string) =>
      result.notes.push(`[attachment not downloaded: ${safeFileName(ref.name)} (${kind}, ${why})]`);
    if (ref.size > opts.maxBytes) {
      skip(`${ref.size} bytes, over the ${opts.maxBytes}-byte limit`);
      continue;
    }
    if (!/^https?:\/\//i.test(ref.url)) {
      skip('not an http(s) URL');
      continue;
    }
    try {
      const res = await doFetch(ref.url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        skip(`download failed: HTTP ${res.status}`);
        continue;
      }
      const data = await readCapped(res, opts.maxBytes);
      if (data === 'too-large') {
        skip(`over the ${opts.maxBytes}-byte limit`);
        continue;
      }
      result.files.push({ name: ref.name, mime: ref.contentType ?? undefined, data });
    } catch (err) {
      skip(`download failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return result;
}
