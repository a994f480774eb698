import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error shape of the API: `{error: {code, message}}`. */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
): Response {
  return c.json({ error: { code, message } }, status);
}

/** A route handler, as the route files define them. */
export type RouteHandler = (c: Context) => Response | Promise<Response>;

/** What a typed error of one domain answers in the API; undefined: not that domain's error. */
export type ApiErrorOf = (
  err: unknown,
) => { status: ContentfulStatusCode; code: string; message: string } | undefined;

/**
 * Wraps route handlers so that an error `map` knows answers `{error: {code, message}}` with its
 * status (the user's 4xx); any other error goes on to `app.onError` (logged, 500).
 */
export function answeringErrors(map: ApiErrorOf): (fn: RouteHandler) => RouteHandler {
  return (fn) => async (c) => {
    try {
      return await fn(c);
    } catch (err) {
      const e = map(err);
      if (e) return apiError(c, e.status, e.code, e.message);
      throw err;
    }
  };
}
