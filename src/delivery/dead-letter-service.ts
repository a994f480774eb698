import type { Logger } from 'pino';
import { z } from 'zod';
import type { DeadLetter, DeadLetterStatus } from '../store/dead-letters.js';
import type { Store } from '../store/store.js';

export type DeadLetterErrorCode = 'not_found' | 'conflict' | 'not_supported' | 'invalid';

/** HTTP status per error code (routes and CLI share it). */
export const DEAD_LETTER_ERROR_STATUS: Record<DeadLetterErrorCode, 400 | 404 | 409> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  not_supported: 409,
};

/** A dead-letter action that cannot be done; the message says why and what to do instead. */
export class DeadLetterError extends Error {
  constructor(
    readonly code: DeadLetterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeadLetterError';
  }
}

/** A dead letter with what it was about: the reply (outbox) or the messages (run). */
export interface DeadLetterDetail extends DeadLetter {
  /** `outbox`: the undelivered reply as it is now (null when the row is gone). */
  reply?: { text: string; status: string; attempts: number; files: string[] } | null;
  /** `run`: the batch's messages (at most 50, oldest first). */
  messages?: Array<{ seq: number; chat: string; sender: string; text: string; ts: number }>;
}

export const deadLetterListQuery = z.strictObject({
  status: z.enum(['pending', 'retried', 'discarded', 'all']).default('pending'),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export interface DeadLetterServiceOptions {
  store: Store;
  /**
   * Re-runs a `run` dead letter's work. Throws a DeadLetterError (`not_supported`) when it
   * cannot; the letter then stays pending.
   */
  retryRun(deadLetter: DeadLetter): void | Promise<void>;
  /** Wakes the outbox worker after a reply was put back in line. */
  kickOutbox?(): void;
  log?: Logger;
  now?: () => number;
}

/**
 * The owner's decisions on dead letters (CLI, API). Each letter is decided once: `retry` sends
 * it back (an outbox row returns to pending under the same idempotency key, so the reply is
 * delivered once however often retry is called), `discard` marks it dropped.
 */
export class DeadLetterService {
  private readonly now: () => number;

  constructor(private readonly opts: DeadLetterServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Newest first; `status` defaults to pending (`all` for every letter). Validates `query`. */
  list(query: unknown = {}): DeadLetter[] {
    const q = deadLetterListQuery.safeParse(query);
    if (!q.success) throw new DeadLetterError('invalid', q.error.issues[0]!.message);
    const status = q.data.status === 'all' ? undefined : q.data.status;
    return this.opts.store.deadLetters.list({ status, limit: q.data.limit });
  }

  get(id: number): DeadLetterDetail {
    const { store } = this.opts;
    const dl = this.find(id);
    if (dl.kind === 'outbox') {
      const row = store.outbox.byKey(dl.ref);
      return {
        ...dl,
        reply: row
          ? {
              text: row.text,
              status: row.status,
              attempts: row.attempts,
              files: row.files.map((f) => f.name),
            }
          : null,
      };
    }
    if (dl.chatId && dl.seqStart !== null && dl.seqEnd !== null) {
      const messages = store.messages
        .range(dl.chatId, dl.seqStart, dl.seqEnd)
        .slice(0, 50)
        .map((m) => ({
          seq: m.seq,
          chat: m.chatId,
          sender: m.senderName ?? m.sender,
          text: m.text,
          ts: m.ts,
        }));
      return { ...dl, messages };
    }
    return { ...dl, messages: [] };
  }

  /** Sends a pending letter back for another try; returns it as it is now (`retried`). */
  async retry(id: number): Promise<DeadLetter> {
    const { store } = this.opts;
    const dl = this.find(id);
    if (dl.kind === 'outbox') {
      store.tx(() => {
        this.claim(dl, 'retried');
        if (!store.outbox.revive(dl.ref, this.now())) {
          const row = store.outbox.byKey(dl.ref);
          throw new DeadLetterError(
            'conflict',
            row
              ? `dead letter #${id}: its reply is ${row.status}, not dead; nothing to retry`
              : `dead letter #${id}: its reply (${dl.ref}) is no longer in the outbox`,
          );
        }
      });
      this.opts.log?.info({ deadLetter: id, ref: dl.ref }, 'dead letter retried: reply pending');
      this.opts.kickOutbox?.();
      return this.find(id);
    }
    // Claimed before the callback runs, so a second retry meanwhile is refused.
    store.tx(() => this.claim(dl, 'retried'));
    try {
      await this.opts.retryRun(dl);
    } catch (err) {
      store.deadLetters.decide(id, 'retried', 'pending', null);
      throw err;
    }
    this.opts.log?.info({ deadLetter: id, group: dl.group }, 'dead letter retried: run queued');
    return this.find(id);
  }

  /** Marks a pending letter as dropped; it stays on record. */
  discard(id: number): DeadLetter {
    const dl = this.find(id);
    this.opts.store.tx(() => this.claim(dl, 'discarded'));
    this.opts.log?.info({ deadLetter: id }, 'dead letter discarded');
    return this.find(id);
  }

  private find(id: number): DeadLetter {
    if (!Number.isSafeInteger(id) || id < 1)
      throw new DeadLetterError('invalid', 'a dead letter id is a whole number ≥ 1');
    const dl = this.opts.store.deadLetters.get(id);
    if (!dl)
      throw new DeadLetterError('not_found', `no dead letter #${id} (clawpod deadletters list)`);
    return dl;
  }

  private claim(dl: DeadLetter, to: DeadLetterStatus): void {
    if (this.opts.store.deadLetters.decide(dl.id, 'pending', to, this.now())) return;
    const now = this.opts.store.deadLetters.get(dl.id);
    throw new DeadLetterError(
      'conflict',
      `dead letter #${dl.id} was already ${now?.status ?? 'decided'}; only a pending one can be retried or discarded`,
    );
  }
}
