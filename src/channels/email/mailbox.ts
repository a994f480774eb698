import type { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import type { Logger } from 'pino';
import type { InboundSink } from '../channel.js';
import { imapFailure } from './errors.js';
import { mapMail } from './inbound.js';
import type { EmailState } from './state.js';

/** Re-scan window before the last processed mail after a UIDVALIDITY change. */
const RESCAN_SLACK_MS = 24 * 60 * 60_000;

export interface MailboxReaderOptions {
  mailbox: string;
  /** The bot's own address: its mail is skipped. */
  botAddress: string;
  state: EmailState;
  sink(): InboundSink | undefined;
  /** Whether `c` is still the link's current client (a replaced client's work is dropped). */
  isCurrent(c: ImapFlow): boolean;
  /** Secrets to mask in error text. */
  secrets: (string | undefined)[];
  /** A mail was handled (health's lastEventAt). */
  onMail(): void;
  /** A fetch failed (health's lastError); it is retried on the next change. */
  onError(message: string): void;
  log: Logger;
}

/**
 * Reads new mail from the mailbox in UID order, one chain of work at a time: each mail is stored
 * (`sink.receive`) before the UID cursor moves past it, so a restart neither re-processes nor
 * skips mail. The cursor is reconciled on every open: the first start begins at the current
 * end; a changed UIDVALIDITY re-scans recent mail by date (the store skips duplicates).
 */
export class MailboxReader {
  /** The chain of mailbox work; every step waits for the one before. */
  draining: Promise<void> = Promise.resolve();

  constructor(private readonly opts: MailboxReaderOptions) {}

  /** After an open: reconcile the cursor, then read what is new. Rejects if reconciling failed. */
  async opened(c: ImapFlow, box: { uidValidity: bigint; uidNext: number; exists: number }) {
    // In the chain, so an `exists` arriving meanwhile waits its turn.
    const reconciled = this.draining.then(() =>
      this.reconcile(c, String(box.uidValidity), box.uidNext, box.exists),
    );
    this.draining = reconciled.catch(() => undefined);
    await reconciled;
    this.drain(c);
    await this.draining;
  }

  /** Reads everything after the cursor (queued behind the work before). */
  drain(c: ImapFlow): void {
    this.draining = this.draining
      .then(async () => {
        if (!this.opts.isCurrent(c)) return;
        const cursor = this.opts.state.cursor(this.opts.mailbox);
        if (!cursor) return;
        if (c.mailbox && c.mailbox.exists === 0) return;
        await this.process(c, `${cursor.lastUid + 1}:*`, cursor.lastUid);
      })
      .catch((err: unknown) => {
        const message = `IMAP fetch failed: ${imapFailure(err, this.opts.secrets).reason}`;
        this.opts.onError(message);
        this.opts.log.warn({ err: message }, 'email fetch failed; retried on the next change');
      });
  }

  /**
   * First start: begin at the current end, remembering the newest skipped mail's time so no
   * later re-scan reads it. UIDVALIDITY changed: re-scan recent mail by date.
   */
  private async reconcile(
    c: ImapFlow,
    uidValidity: string,
    uidNext: number,
    exists: number,
  ): Promise<void> {
    const { mailbox, state } = this.opts;
    const cursor = state.cursor(mailbox);
    if (!cursor) {
      const newest = exists > 0 ? await c.fetchOne('*', { internalDate: true, uid: true }) : false;
      const floorTs =
        newest && newest.internalDate ? new Date(newest.internalDate).getTime() : null;
      state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null, floorTs });
      return;
    }
    if (cursor.uidValidity === uidValidity) return;
    this.opts.log.warn(
      { mailbox },
      'UIDVALIDITY changed: re-scanning recent mail (duplicates are skipped)',
    );
    const floorTs = cursor.floorTs;
    if (cursor.lastTs === null) {
      state.setCursor(mailbox, { uidValidity, lastUid: uidNext - 1, lastTs: null, floorTs });
      return;
    }
    state.setCursor(mailbox, { uidValidity, lastUid: 0, lastTs: cursor.lastTs, floorTs });
    const uids = await c.search(
      { since: new Date(cursor.lastTs - RESCAN_SLACK_MS) },
      { uid: true },
    );
    const list = uids ? [...uids].sort((a, b) => a - b) : [];
    if (list.length) await this.process(c, list.join(','), 0);
    const after = state.cursor(mailbox)!;
    if (after.lastUid < uidNext - 1) state.setCursor(mailbox, { ...after, lastUid: uidNext - 1 });
  }

  /**
   * Fetches the UIDs in `range` above `after`, stores each in order, advancing the cursor.
   * Mail received at or before the cursor's `floorTs` (skipped at the first start) is passed over.
   */
  private async process(c: ImapFlow, range: string, after: number): Promise<void> {
    const { mailbox, state } = this.opts;
    const found = await c.fetchAll(
      range,
      { uid: true, source: true, internalDate: true },
      { uid: true },
    );
    const fresh = found.filter((m) => m.uid > after).sort((a, b) => a.uid - b.uid);
    for (const m of fresh) {
      const cursor = state.cursor(mailbox)!;
      const receivedAt = m.internalDate ? new Date(m.internalDate).getTime() : Date.now();
      const skipped = cursor.floorTs !== null && receivedAt <= cursor.floorTs;
      if (m.source && !skipped) await this.store(m.uid, m.source, receivedAt);
      this.opts.onMail();
      state.setCursor(mailbox, {
        ...cursor,
        lastUid: Math.max(cursor.lastUid, m.uid),
        lastTs: skipped ? cursor.lastTs : Math.max(cursor.lastTs ?? 0, receivedAt),
      });
    }
  }

  /** Parses one mail and hands it to the sink; remembers it for threading replies. */
  private async store(uid: number, source: Buffer, receivedAt: number): Promise<void> {
    const { log } = this.opts;
    // A mail mailparser cannot read is logged and passed over, never retried forever.
    const parsed = await simpleParser(source).catch((err: unknown) => {
      log.warn({ uid, err: (err as Error).message }, 'unreadable mail skipped');
      return null;
    });
    const mapped = parsed && mapMail(parsed, { botAddress: this.opts.botAddress, receivedAt });
    if (!mapped) return;
    if (mapped.automatic)
      log.info(
        { chat: mapped.inbound.chatId, why: mapped.automatic },
        'automatic mail stored as context; it is not answered',
      );
    // Stored before the cursor moves: a crash here re-reads the mail, and the store skips it
    // as a duplicate (chat + Message-ID).
    await this.opts.sink()!.receive(mapped.inbound);
    this.opts.state.noteInbound(
      mapped.inbound.chatId,
      mapped.messageId,
      mapped.subject,
      mapped.references,
      { newest: !mapped.automatic },
    );
  }
}
