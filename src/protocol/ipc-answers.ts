// zod/mini: the agent's IPC client reads these in the runner (the Claude permission callback)
// and the MCP server; mini keeps full zod out of the runner bundle, whose cold start counts.
import * as z from 'zod/mini';

/** host → agent: file `responses/<id>.json` (and `<id>.final.json` after a `pending` answer). */
export const responseFileSchema = z.union([
  z.strictObject({ id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({
    id: z.string(),
    ok: z.literal(false),
    error: z.strictObject({ code: z.string(), message: z.string() }),
  }),
]);
export type ResponseFile = z.infer<typeof responseFileSchema>;

/**
 * A first answer `{id, ok: true, result: {pending}}` means the request waits — for the owner
 * (`approval`) or for a delegate (`delegation`): the final answer comes as
 * `responses/<id>.final.json` within `waitMs` (plus a margin).
 */
export const pendingAnswerSchema = z.strictObject({
  approval: z.optional(z.int()),
  delegation: z.optional(z.string()),
  waitMs: z.int().check(z.nonnegative()),
  message: z.string(),
});
export type PendingAnswer = z.infer<typeof pendingAnswerSchema>;
