import type { Hono } from 'hono';
import type { DeadLetter } from '../store/dead-letters.js';
import { removeDeadLetter, reviveOutbox } from '../store/dead-letter-decisions.js';
import type { Store } from '../store/store.js';
import { apiError } from './errors.js';

export interface DeadLetterRouteDeps {
  store: Store;
  /** Queues the work of a `run` dead letter again (its messages, replayed in one turn). */
  retryRun(letter: DeadLetter): void;
  /** Wakes the outbox worker after a reply was put back in line. */
  kickOutbox(): void;
}

/**
 * `GET /api/deadletters` (newest first, `?limit=`), `POST /api/deadletters/:id/retry` (a dead
 * reply goes back in line under its own key; a dead run's messages are answered again) and
 * `POST /api/deadletters/:id/discard`. Both answer the letter with its `status` as decided and
 * take it off the list. Mount after the token middleware.
 */
export function mountDeadLetterRoutes(app: Hono, deps: DeadLetterRouteDeps): void {
  const find = (raw: string): DeadLetter | undefined =>
    /^\d{1,15}$/.test(raw)
      ? deps.store.deadLetters.list(100_000).find((d) => d.id === Number(raw))
      : undefined;
  app.get('/api/deadletters', (c) => {
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return apiError(c, 400, 'invalid', 'limit must be a whole number from 1 to 1000');
    return c.json(deps.store.deadLetters.list(limit).map((d) => ({ ...d, status: 'pending' })));
  });
  app.post('/api/deadletters/:id/retry', (c) => {
    const dl = find(c.req.param('id'));
    if (!dl) return apiError(c, 404, 'not_found', `no dead letter #${c.req.param('id')}`);
    const { store } = deps;
    if (dl.kind === 'outbox') {
      const revived = store.tx(() => {
        if (!reviveOutbox(store.db, dl.ref, Date.now())) return false;
        removeDeadLetter(store.db, dl.id);
        return true;
      });
      if (!revived)
        return apiError(c, 409, 'conflict', `dead letter #${dl.id}: its reply is no longer dead`);
      deps.kickOutbox();
    } else {
      if (!dl.group || !dl.chatJid || dl.seqStart === null || dl.seqEnd === null)
        return apiError(
          c,
          409,
          'not_supported',
          `dead letter #${dl.id} names no messages to answer again; discard it`,
        );
      removeDeadLetter(store.db, dl.id);
      deps.retryRun(dl);
    }
    return c.json({ ...dl, status: 'retried' });
  });
  app.post('/api/deadletters/:id/discard', (c) => {
    const dl = find(c.req.param('id'));
    if (!dl) return apiError(c, 404, 'not_found', `no dead letter #${c.req.param('id')}`);
    removeDeadLetter(deps.store.db, dl.id);
    return c.json({ ...dl, status: 'discarded' });
  });
}
