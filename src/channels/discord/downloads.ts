import { safeFileName, type InboundAttachment } from '../attachments.js';
import { downloadCapped } from '../kit/download.js';
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
    const got = await downloadCapped(ref.url, {
      maxBytes: opts.maxBytes,
      timeoutMs: opts.timeoutMs ?? 30_000,
      fetch: opts.fetch,
    });
    if (got.kind === 'ok')
      result.files.push({ name: ref.name, mime: ref.contentType ?? undefined, data: got.data });
    else if (got.kind === 'too-big') skip(`over the ${opts.maxBytes}-byte limit`);
    else if (got.kind === 'http-error') skip(`download failed: HTTP ${got.status}`);
    else skip(`download failed: ${got.message}`);
  }
  return result;
}
