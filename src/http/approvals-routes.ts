import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { actionKinds } from '../guard/actions.js';
import type { Budgets } from '../guard/budgets.js';
import { GUARD_ERROR_STATUS, GuardError } from '../guard/errors.js';
import type { Guard } from '../guard/guard.js';
import { OWNER_SENDER } from '../conversation/senders.js';
import { answeringErrors } from './errors.js';

/** What the approvals routes need from the daemon. */
export interface ApprovalRouteDeps {
  guard: Guard;
  budgets: Budgets;
}

/** GuardError answers `{error: {code, message}}` with its status. */
const guarded = answeringErrors((err) =>
  err instanceof GuardError
    ? { status: GUARD_ERROR_STATUS[err.code], code: err.code, message: err.message }
    : undefined,
);

const idOf = (c: Context): number => {
  const raw = c.req.param('id') ?? '';
  if (!/^\d{1,12}$/.test(raw)) throw new GuardError('invalid', `not an approval id: "${raw}"`);
  return Number(raw);
};

const decisionBody = z.strictObject({ decision: z.enum(['once', 'always', 'deny']) });
const ruleBody = z.strictObject({
  group: z.string().min(1),
  kind: z.enum(actionKinds),
  pattern: z.string().min(1).max(1000),
  effect: z.enum(['allow', 'ask', 'deny']),
});
const listQuery = z.object({
  status: z.enum(['pending', 'allowed', 'denied', 'expired', 'all']).default('pending'),
  group: z.string().optional(),
  kind: z.enum(actionKinds).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new GuardError('invalid', 'the body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new GuardError('invalid', `${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return parsed.data;
}

/**
 * The owner's inbox and levers (docs/http-api.md, docs/approvals.md, docs/budgets.md):
 * `/api/approvals` (list, one, decide), `/api/guard/rules` (list, add, revoke) and
 * `/api/budgets` (every cap with its spend). Answers through the API are the owner's. Mount
 * after the token middleware.
 */
export function mountApprovalRoutes(app: Hono, deps: ApprovalRouteDeps): void {
  const { guard, budgets } = deps;
  app.get(
    '/api/approvals',
    guarded((c) => {
      const q = listQuery.safeParse(c.req.query());
      if (!q.success) throw new GuardError('invalid', q.error.issues[0]!.message);
      return c.json(guard.list(q.data));
    }),
  );
  app.get(
    '/api/approvals/:id',
    guarded((c) => c.json(guard.get(idOf(c)))),
  );
  app.post(
    '/api/approvals/:id',
    guarded(async (c) => {
      const id = idOf(c);
      const { decision } = await body(c, decisionBody);
      const r = guard.answer(id, decision, OWNER_SENDER);
      if (r.ok) return c.json(r.approval);
      return c.json(
        { error: { code: r.code, message: r.message }, approval: r.approval },
        GUARD_ERROR_STATUS[r.code],
      );
    }),
  );
  app.get(
    '/api/guard/rules',
    guarded((c) => c.json(guard.rules(c.req.query('group') || undefined))),
  );
  app.post(
    '/api/guard/rules',
    guarded(async (c) => c.json(guard.addRule(await body(c, ruleBody)), 201)),
  );
  app.delete(
    '/api/guard/rules/:id',
    guarded((c) => {
      guard.revokeRule(idOf(c));
      return c.body(null, 204);
    }),
  );
  app.get(
    '/api/budgets',
    guarded((c) => c.json(budgets.status(c.req.query('group') || undefined))),
  );
}
