import { join } from 'node:path';
import { safeMkdirp, safeWriteFile } from '../sandbox/safe-fs.js';

/** A file that arrived with a message (image, document, voice note). */
export interface InboundAttachment {
  /** The platform's file name, or a made-up one ("voice.ogg"). Never trusted as a path. */
  name: string;
  mime?: string;
  data: Buffer;
}

export const ATTACHMENT_DIR = 'attachments';

/** Lowercase letters, digits, dot, dash and underscore only; no leading dot; bounded length. */
export function safeFileName(name: string): string {
  const base = name.replace(/^.*[\\/]/, '');
  const cleaned = base
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(-80);
  return cleaned || 'file';
}

/**
 * Saves a message's attachments into the group's folder under `attachments/` and returns the
 * lines to append to the message text (paths as the agent sees them). Names are derived from the
 * chat and platform message id, so a redelivered message overwrites, never duplicates. Files over
 * `maxBytes` are not saved; their line says so. The folder is sandbox-owned: nothing is followed,
 * and what is saved belongs to the folder's owner (the group's sandbox uid), so the agent may
 * change or delete it.
 */
export async function saveAttachments(opts: {
  groupsDir: string;
  folder: string;
  chatId: string;
  platformId: string;
  attachments: InboundAttachment[];
  maxBytes: number;
}): Promise<string[]> {
  const root = join(opts.groupsDir, opts.folder);
  await safeMkdirp(root, ATTACHMENT_DIR, { inheritOwner: true });
  const prefix = safeFileName(`${opts.chatId}-${opts.platformId}`);
  const lines: string[] = [];
  for (const [i, a] of opts.attachments.entries()) {
    const name = `${prefix}-${i + 1}-${safeFileName(a.name)}`;
    const kind = a.mime ?? 'file';
    if (a.data.length > opts.maxBytes) {
      lines.push(
        `[attachment not saved: ${safeFileName(a.name)} (${kind}, ${a.data.length} bytes, over the ${opts.maxBytes}-byte limit)]`,
      );
      continue;
    }
    await safeWriteFile(root, `${ATTACHMENT_DIR}/${name}`, a.data, { inheritOwner: true });
    lines.push(
      `[attachment: /workspace/group/${ATTACHMENT_DIR}/${name} (${kind}, ${a.data.length} bytes)]`,
    );
  }
  return lines;
}
