import type { Context, Hono } from 'hono';
import {
  DEAD_LETTER_ERROR_STATUS,
  DeadLetterError,
  type DeadLetterService,
} from '../delivery/dead-letter-service.js';
import { answeringErrors } from './errors.js';

/** DeadLetterError answers `{error: {code, message}}` with its status. */
const guard = answeringErrors((err) =>
  err instanceof DeadLetterError
    ? { status: DEAD_LETTER_ERROR_STATUS[err.code], code: err.code, message: err.message }
    : undefined,
);

const idOf = (c: Context): number => {
  const raw = c.req.param('id') ?? '';
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
};

/**
 * `/api/deadletters`: list (`?status=pending|retried|discarded|all&limit=`, default pending),
 * show one (`/:id`, with its reply or its messages), and the decisions `/:id/retry` and
 * `/:id/discard` (200 with the letter as it is now). Errors: 400 invalid, 404 not_found,
 * 409 conflict (already decided, reply not dead) or not_supported. Mount after the token
 * middleware.
 */
export function mountDeadLetterRoutes(app: Hono, deadLetters: DeadLetterService): void {
  app.get(
    '/api/deadletters',
    guard((c) => c.json(deadLetters.list(c.req.query()))),
  );
  app.get(
    '/api/deadletters/:id',
    guard((c) => c.json(deadLetters.get(idOf(c)))),
  );
  app.post(
    '/api/deadletters/:id/retry',
    guard(async (c) => c.json(await deadLetters.retry(idOf(c)))),
  );
  app.post(
    '/api/deadletters/:id/discard',
    guard((c) => c.json(deadLetters.discard(idOf(c)))),
  );
}
