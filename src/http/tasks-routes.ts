import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { TASK_ERROR_STATUS, TaskError } from '../schedule/errors.js';
import { OWNER, type Actor, type TaskService } from '../tasks/task-service.js';
import { answeringErrors } from './errors.js';

/** The API acts as the owner: it manages every group's tasks. */
const API_ACTOR: Actor = { ...OWNER, via: 'api' };

const listQuery = z.strictObject({
  group: z.string().min(1).max(64).optional(),
  status: z.enum(['active', 'paused', 'completed', 'cancelled']).optional(),
});
const limitQuery = z.coerce.number().int().min(1).max(1000).default(50);

/** TaskError answers `{error: {code, message}}` with its status (its detail as the code). */
const guard = answeringErrors((err) =>
  err instanceof TaskError
    ? { status: TASK_ERROR_STATUS[err.code], code: err.detail ?? err.code, message: err.message }
    : undefined,
);

const idOf = (c: Context): string => c.req.param('id') ?? '';

async function body(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new TaskError('invalid', 'the request body must be JSON', 'invalid_json');
  }
}

/**
 * `/api/tasks`: list (`?group=&status=`), create, get, change (PATCH), delete, the actions
 * pause/resume/cancel/run, and `/runs` (the task's history, `?limit=`). Bodies are validated
 * by TaskService (zod); errors are `{error: {code, message}}`: 400 invalid (code names the
 * schedule problem, e.g. `invalid_cron`), 404 not_found, 409 conflict, 503 unavailable.
 * Mount after the token middleware.
 */
export function mountTaskRoutes(app: Hono, tasks: TaskService): void {
  app.get(
    '/api/tasks',
    guard((c) => {
      const q = listQuery.safeParse(c.req.query());
      if (!q.success) throw new TaskError('invalid', q.error.issues[0]!.message, 'invalid_query');
      return c.json(tasks.list(API_ACTOR, q.data));
    }),
  );
  app.post(
    '/api/tasks',
    guard(async (c) => {
      const created = tasks.create(API_ACTOR, await body(c));
      return c.json(created, created.created ? 201 : 200);
    }),
  );
  app.get(
    '/api/tasks/:id',
    guard((c) => c.json(tasks.get(API_ACTOR, idOf(c)))),
  );
  app.patch(
    '/api/tasks/:id',
    guard(async (c) => c.json(tasks.update(API_ACTOR, idOf(c), await body(c)))),
  );
  app.delete(
    '/api/tasks/:id',
    guard((c) => {
      tasks.remove(API_ACTOR, idOf(c));
      return c.body(null, 204);
    }),
  );
  app.post(
    '/api/tasks/:id/pause',
    guard((c) => c.json(tasks.pause(API_ACTOR, idOf(c)))),
  );
  app.post(
    '/api/tasks/:id/resume',
    guard((c) => c.json(tasks.resume(API_ACTOR, idOf(c)))),
  );
  app.post(
    '/api/tasks/:id/cancel',
    guard((c) => c.json(tasks.cancel(API_ACTOR, idOf(c)))),
  );
  app.post(
    '/api/tasks/:id/run',
    guard((c) => c.json(tasks.runNow(API_ACTOR, idOf(c)), 202)),
  );
  app.get(
    '/api/tasks/:id/runs',
    guard((c) => {
      const limit = limitQuery.safeParse(c.req.query('limit') ?? undefined);
      if (!limit.success) throw new TaskError('invalid', 'limit must be 1-1000', 'invalid_query');
      return c.json(tasks.history(API_ACTOR, idOf(c), limit.data));
    }),
  );
}
