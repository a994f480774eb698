import type { Api } from 'grammy';
import { safeFileName, type InboundAttachment } from '../attachments.js';
import { describeError } from './errors.js';
import type { FileRef } from './inbound.js';

export interface DownloadOptions {
  api: Api;
  /** `<apiRoot>/file/bot<token>/<file_path>`: holds the token, never logged. */
  fileUrl(filePath: string): string;
  maxBytes: number;
  token: string;
  timeoutMs?: number;
}

/**
 * Downloads a message's files (getFile, then the file URL). Never throws: a file over
 * `maxBytes` (as announced, or while streaming) is not fetched past the cap, and any failure
 * becomes a note line for the message text, so the message itself is always stored.
 */
export async function downloadFiles(
  files: FileRef[],
  opts: DownloadOptions,
): Promise<{ attachments: InboundAttachment[]; notes: string[] }> {
  const attachments: InboundAttachment[] = [];
  const notes: string[] = [];
  for (const f of files) {
    const label = `${safeFileName(f.name)} (${f.mime ?? 'file'}`;
    const tooBig = (size: number) =>
      `[attachment not downloaded: ${label}, ${size} bytes, over the ${opts.maxBytes}-byte limit)]`;
    if (f.size !== undefined && f.size > opts.maxBytes) {
      notes.push(tooBig(f.size));
      continue;
    }
    try {
      const info = await opts.api.getFile(f.fileId);
      if (info.file_size !== undefined && info.file_size > opts.maxBytes) {
        notes.push(tooBig(info.file_size));
        continue;
      }
      if (!info.file_path || info.file_path.startsWith('/')) {
        notes.push(`[attachment not downloaded: ${label}, no download path from the Bot API)]`);
        continue;
      }
      const data = await fetchCapped(opts.fileUrl(info.file_path), opts.maxBytes, opts.timeoutMs);
      if (data === 'too-big') notes.push(tooBig(info.file_size ?? opts.maxBytes + 1));
      else attachments.push({ name: f.name, mime: f.mime, data });
    } catch (err) {
      notes.push(
        `[attachment could not be downloaded: ${label}): ${describeError(err, opts.token).replace(/https?:\/\/\S+/g, '<url>')}]`,
      );
    }
  }
  return { attachments, notes };
}

async function fetchCapped(
  url: string,
  maxBytes: number,
  timeoutMs = 120_000,
): Promise<Buffer | 'too-big'> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    // The fetch error may quote the URL (with the token): keep only its kind, never the cause.
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    // eslint-disable-next-line preserve-caught-error -- the cause holds the token-bearing URL
    throw new Error(`file download failed${cause ? ` (${cause})` : ''}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`file download failed (HTTP ${res.status})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return 'too-big';
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}
