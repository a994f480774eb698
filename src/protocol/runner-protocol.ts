import { z } from 'zod';

/**
 * The host ↔ in-sandbox runner protocol. The host writes one `start` line on the runner's
 * stdin; the runner writes JSONL events on stdout. Follow-ups travel as files in
 * `/workspace/ipc/input/` (see ipc.ts) and are acknowledged on stdout.
 */
export const startRequestSchema = z.strictObject({
  type: z.literal('start'),
  runId: z.string().min(1),
  group: z.string().min(1),
  isMain: z.boolean(),
  harness: z.string().min(1),
  /** For the `command` harness: a shell command; prompt on stdin, reply on stdout. */
  command: z.string().nullable(),
  model: z.string().nullable(),
  prompt: z.string(),
  sessionId: z.string().nullable(),
  /** The runner exits after this long without input. */
  idleTimeoutMs: z.number().int().positive(),
  timezone: z.string(),
  assistantName: z.string(),
});
export type StartRequest = z.infer<typeof startRequestSchema>;

export const usageSchema = z.strictObject({
  inputTokens: z.number().nonnegative().optional(),
  outputTokens: z.number().nonnegative().optional(),
  cacheReadTokens: z.number().nonnegative().optional(),
  cacheWriteTokens: z.number().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
});

export const runnerEventSchema = z.discriminatedUnion('type', [
  /** Lifecycle: ready (started), busy (working on an input), idle (waiting), closing. */
  z.strictObject({ type: z.literal('state'), state: z.enum(['ready', 'busy', 'idle', 'closing']) }),
  /** A follow-up input file was read and accepted; the host may count it delivered. */
  z.strictObject({ type: z.literal('ack'), inputId: z.number().int().positive() }),
  /** One logical reply for the chat. */
  z.strictObject({ type: z.literal('message'), text: z.string() }),
  /** Inputs up to `inputId` are answered. */
  z.strictObject({
    type: z.literal('result'),
    inputId: z.number().int().nonnegative(),
    sessionId: z.string().nullable().optional(),
    usage: usageSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('error'),
    message: z.string(),
    retryable: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string(),
  }),
]);
export type RunnerWireEvent = z.infer<typeof runnerEventSchema>;

/** Encodes one event as a stdout line. */
export const encodeEvent = (ev: RunnerWireEvent): string => JSON.stringify(ev) + '\n';
