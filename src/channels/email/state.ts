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
  /**
   * Receive time (ms, the server's clock) of the newest mail already in the mailbox at the first
   * start. That mail was skipped on purpose, so no re-scan ever reads it (null: unknown, or the
   * mailbox was empty).
   */
  floorTs: z.number().nullable().default(null),
});

const threadSchema = z.object({
  /** Message-ID of the mail. */
  messageId: z.string(),
  subject: z.string(),
  /** The thread up to and including this mail, oldest first (a reply's References). */
  references: z.array(z.string()).default([]),
});

const stateSchema = z.object({
  mailboxes: z.record(z.string(), cursorSchema).default({}),
  /** The newest mail per chat: what a reply without a `replyTo` answers. */
  threads: z.record(z.string(), threadSchema).default({}),
  /** Recent inbound mail by Message-ID (oldest first, capped): what a reply with `replyTo` answers. */
  messages: z.record(z.string(), threadSchema).default({}),
});

/** Where the adapter stands in one mailbox. */
export type MailboxCursor = z.infer<typeof cursorSchema>;
/** The mail a reply answers: its id, subject and thread. */
export type ThreadInfo = z.infer<typeof threadSchema>;

const MAX_REFERENCES = 20;
/** Inbound mails remembered for threading replies to them. */
export const MAX_REMEMBERED_MAILS = 1000;

/**
 * The email channel's durable state in one JSON file: the UID cursor per mailbox (so a restart
 * neither re-processes nor skips mail), the newest mail per chat and the recent mails by
 * Message-ID (for threading replies). Written atomically (temp file + rename) after every change.
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

  /** The newest mail from `chatId`. */
  thread(chatId: string): ThreadInfo | undefined {
    return this.data.threads[chatId];
  }

  /** A remembered inbound mail by its Message-ID. */
  mail(messageId: string): ThreadInfo | undefined {
    return Object.hasOwn(this.data.messages, messageId) ? this.data.messages[messageId] : undefined;
  }

  /**
   * Records an inbound mail, findable by its Message-ID, and (unless `newest` is false, as for
   * automatic mail) as the newest of `chatId`.
   */
  noteInbound(
    chatId: string,
    messageId: string,
    subject: string,
    references: string[],
    opts: { newest?: boolean } = {},
  ): void {
    const refs = [...references.filter((r) => r !== messageId), messageId].slice(-MAX_REFERENCES);
    const info = { messageId, subject, references: refs };
    if (opts.newest !== false) this.data.threads[chatId] = info;
    const messages = this.data.messages;
    // A hostile Message-ID must not reach the object's prototype.
    if (messageId === '__proto__') return this.save();
    delete messages[messageId];
    messages[messageId] = info;
    const ids = Object.keys(messages);
    for (const old of ids.slice(0, Math.max(0, ids.length - MAX_REMEMBERED_MAILS)))
      delete messages[old];
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
