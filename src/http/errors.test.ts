import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { answeringErrors, apiError } from './errors.js';

class NotFoundThing extends Error {}

/** An app as the daemon builds one: a domain's routes wrapped, the rest to `onError` (500). */
function app(): Hono {
  const guard = answeringErrors((err) =>
    err instanceof NotFoundThing
      ? { status: 404, code: 'not_found', message: err.message }
      : undefined,
  );
  const a = new Hono();
  a.onError((_err, c) => apiError(c, 500, 'internal', 'internal error; see the daemon log'));
  a.get(
    '/thing/:id',
    guard((c) => {
      if (c.req.param('id') === 'gone') throw new NotFoundThing('no thing "gone"');
      if (c.req.param('id') === 'bug') throw new TypeError('x is undefined');
      return c.json({ id: c.req.param('id') });
    }),
  );
  return a;
}

describe('answeringErrors', () => {
  it("answers a domain's error with its status and {error: {code, message}}", async () => {
    const res = await app().request('/thing/gone');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no thing "gone"' } });
  });

  it('passes any other error on to onError (500, no internals in the body)', async () => {
    const res = await app().request('/thing/bug');
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain('x is undefined');
  });

  it('leaves a good answer alone', async () => {
    expect(await (await app().request('/thing/7')).json()).toEqual({ id: '7' });
  });
});
