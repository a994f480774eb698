import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const cursorSchema = z.object({
  /** UIDVALIDITY as a decimal string (IMAP allows 32 bits; imapflow reports a bigint). */
  uidValidity: z.string(),
  /** Highest UID handed to the sink and stored. */
  lastUid: z.number().int().min(0),
  /** Receive time of the newest processed mail (ms), for re-scanning after a UIDVALIDITY change. */
  lastTs: z.number().nullable().default(null),
});

const threadSchema = z.object({
  /** Message-ID of the newest mail from this chat (replies go In-Reply-To it). */
  messageId: z.string(),
  subject: z.string(),
  references: z.array(z.string()).default([]),
});

const stateSchema = z.object({
  mailboxes: z.record(z.string(), cursorSchema).default({}),
  threads: z.record(z.string(), threadSchema).default({}),
});

/** Where the adapter stands in one mailbox. */
export type MailboxCursor = z.infer<typeof cursorSchema>;
/** The thread a reply to a chat continues. */
export type ThreadInfo = z.infer<typeof threadSchema>;

const MAX_REFERENCES = 20;

/**
 * The email channel's durable state in one JSON file: the UID cursor per mailbox (so a restart
 * neither re-processes nor skips mail) and the last Message-ID per chat (for threading replies).
 * Written atomically (temp file + rename) after every change.
 */
export class EmailState {
  private data: z.infer<typeof stateSchema>;

  constructor(private readonly file: string) {
    let raw: unknown = {};
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.data = stateSchema.parse(raw);
  }

  cursor(mailbox: string): MailboxCursor | undefined {
    return this.data.mailboxes[mailbox];
  }

  setCursor(mailbox: string, cursor: MailboxCursor): void {
    this.data.mailboxes[mailbox] = cursor;
    this.save();
  }

  thread(chatJid: string): ThreadInfo | undefined {
    return this.data.threads[chatJid];
  }

  /** Records an inbound mail as the one the next reply to `chatJid` answers. */
  noteInbound(chatJid: string, messageId: string, subject: string, references: string[]): void {
    const refs = [...references.filter((r) => r !== messageId), messageId].slice(-MAX_REFERENCES);
    this.data.threads[chatJid] = { messageId, subject, references: refs };
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
