// zod/mini: the in-sandbox runner reads answers too (codex approvals), and its bundle stays
// free of full zod (see runner-protocol.ts).
import * as z from 'zod/mini';

/** host → agent: file `responses/<id>.json` (and `<id>.final.json` after a pending answer). */
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
 * A first answer `{id, ok: true, result: {pending}}` means the request waits for the owner:
 * the final answer comes as `responses/<id>.final.json` within `waitMs` (plus a margin).
 */
export const pendingAnswerSchema = z.strictObject({
  approval: z.int(),
  waitMs: z.int().check(z.minimum(0)),
  message: z.string(),
});
export type PendingAnswer = z.infer<typeof pendingAnswerSchema>;
