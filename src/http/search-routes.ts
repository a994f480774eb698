import type { Hono } from 'hono';
import { z } from 'zod';
import { HISTORY_SEARCH_ERROR_STATUS, HistorySearchError } from '../memory/errors.js';
import { MAX_SEARCH_LIMIT, parseWhen, type HistorySearch } from '../memory/history-search.js';
import { apiError } from './errors.js';

const searchQuery = z.strictObject({
  q: z.string().trim().min(1, 'q: give at least one word to search for').max(500),
  group: z.string().min(1).max(64).optional(),
  chat: z.string().min(1).max(600).optional(),
  since: z.string().min(1).max(64).optional(),
  until: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_LIMIT).optional(),
});

/**
 * `GET /api/search?q=&group=&chat=&since=&until=&limit=`: the owner's history search over
 * every chat and run (or one group's with `group`), newest first. A bad query, time or limit is
 * a 400 with a message, an unknown group a 404. Mount after the token middleware.
 */
export function mountSearchRoutes(
  app: Hono,
  deps: { history: HistorySearch; timezone: string },
): void {
  app.get('/api/search', (c) => {
    const parsed = searchQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      const where =
        i.code === 'unrecognized_keys' ? `unknown parameter(s) ${i.keys.join(', ')}` : '';
      return apiError(
        c,
        400,
        'invalid_query',
        where || `${i.path.map(String).join('.') || 'query'}: ${i.message}`,
      );
    }
    const { q, group, chat, since, until, limit } = parsed.data;
    try {
      const now = Date.now();
      const at = (v: string | undefined, endOfDay = false) =>
        v === undefined ? undefined : parseWhen(v, deps.timezone, now, { endOfDay });
      return c.json(
        deps.history.search(
          { kind: 'owner', group },
          { query: q, chat, since: at(since), until: at(until, true), limit },
        ),
      );
    } catch (err) {
      if (err instanceof HistorySearchError)
        return apiError(c, HISTORY_SEARCH_ERROR_STATUS[err.code], err.code, err.message);
      throw err;
    }
  });
}
