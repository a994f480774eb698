import type { Api } from 'grammy';
import { safeFileName, type InboundAttachment } from '../attachments.js';
import { downloadCapped } from '../kit/download.js';
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
      const got = await downloadCapped(opts.fileUrl(info.file_path), {
        maxBytes: opts.maxBytes,
        timeoutMs: opts.timeoutMs ?? 120_000,
      });
      if (got.kind === 'too-big') notes.push(tooBig(info.file_size ?? opts.maxBytes + 1));
      else if (got.kind === 'ok') attachments.push({ name: f.name, mime: f.mime, data: got.data });
      // The file URL holds the token: the reason is the failure's kind only, never its text.
      else {
        const why = got.kind === 'http-error' ? `HTTP ${got.status}` : got.code;
        throw new Error(`file download failed${why ? ` (${why})` : ''}`);
      }
    } catch (err) {
      notes.push(
        `[attachment could not be downloaded: ${label}): ${describeError(err, opts.token).replace(/https?:\/\/\S+/g, '<url>')}]`,
      );
    }
  }
  return { attachments, notes };
}
