// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';
import type { TurnTokens } from './prices.js';
import type { CodexTotals } from './usage.js';

/**
 * Reads the app-server notifications of one turn of one thread (seen with 0.171):
 *
 *   turn/started {turn}                              item/started|completed {item, turnId}
 *       item: agentMessage {text}, commandExecution {command, status, exitCode},
 *       mcpToolCall {server, tool, status}, fileChange {changes[{path}]}, webSearch {query}, …
 *   item/agentMessage/delta {delta}                  → partial
 *   thread/tokenUsage/updated {turnId, tokenUsage: {total, last}}   (once per model request)
 *   error {error: {message}, willRetry}              → a warning, or the cause of a failure
 *   turn/completed {turn: {status: completed|failed|interrupted, error}}
 *
 * A tool step's start becomes a `tool` event (name and a short summary, never its output); the
 * turn's last agent message is the reply (earlier ones are preambles). Unknown notifications
 * and fields are ignored, so a newer Codex that adds some keeps working.
 */

const count = z._default(z.catch(z.number().check(z.nonnegative()), 0), 0);
const breakdownSchema = z.looseObject({
  inputTokens: count,
  cachedInputTokens: count,
  cacheWriteInputTokens: count,
  outputTokens: count,
});
const itemSchema = z.looseObject({
  type: z.string(),
  text: z.optional(z.string()),
  command: z.optional(z.string()),
  status: z.optional(z.string()),
  exitCode: z.optional(z.nullable(z.number())),
  server: z.optional(z.string()),
  tool: z.optional(z.string()),
  query: z.optional(z.string()),
  changes: z.optional(z.array(z.looseObject({ path: z.optional(z.string()) }))),
});
const paramsSchema = z.looseObject({
  threadId: z.optional(z.string()),
  turnId: z.optional(z.string()),
  item: z.optional(itemSchema),
  delta: z.optional(z.string()),
  willRetry: z.optional(z.boolean()),
  error: z.optional(z.looseObject({ message: z.optional(z.string()) })),
  tokenUsage: z.optional(
    z.looseObject({ total: z.optional(breakdownSchema), last: z.optional(breakdownSchema) }),
  ),
  turn: z.optional(
    z.looseObject({
      id: z.optional(z.string()),
      status: z.optional(z.string()),
      error: z.optional(z.nullable(z.looseObject({ message: z.optional(z.string()) }))),
    }),
  ),
});
type Item = z.infer<typeof itemSchema>;

/** How the turn ended, once turn/completed arrived. */
export type AppServerTurnEnd =
  { status: 'completed' } | { status: 'failed'; message: string } | { status: 'interrupted' };

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** `/bin/bash -lc 'git push'` → `git push`: the command as the model wrote it. */
export function unwrapShell(command: string): string {
  const m = /^\S*?(?:^|\/)(?:ba|z)?sh -l?c '((?:[^']|'\\'')*)'$/s.exec(command.trim());
  return m ? m[1]!.replace(/'\\''/g, "'") : command;
}

/** What one turn said, fed notification by notification. */
export class AppServerTurnReader {
  /** The reply: the turn's last agent message. */
  reply: string | null = null;
  /** The turn's own tokens: the sum of its requests' `last` usage. */
  readonly tokens: TurnTokens = { input: 0, cachedInput: 0, cacheWrite: 0, output: 0 };
  /** The thread's running totals after the turn's last request (for the exec-mode ledger). */
  totals: CodexTotals | null = null;
  /** Set by turn/completed. */
  end: AppServerTurnEnd | null = null;
  private lastError: string | null = null;
  /** The turn's id (turn/started): usage of other turns (a resumed thread's) is not counted. */
  private turnId: string | null = null;

  constructor(private readonly threadId: string) {}

  /** Feeds one notification; returns the events to pass on at once. */
  notification(method: string, raw: unknown): RunnerEvent[] {
    const parsed = paramsSchema.safeParse(raw);
    if (!parsed.success) return [];
    const p = parsed.data;
    if (p.threadId !== undefined && p.threadId !== this.threadId) return [];
    switch (method) {
      case 'turn/started':
        this.turnId = p.turn?.id ?? null;
        return [];
      case 'item/agentMessage/delta':
        return p.delta ? [{ type: 'partial', text: p.delta }] : [];
      case 'item/started':
        return p.item ? started(p.item) : [];
      case 'item/completed':
        return p.item ? this.completed(p.item) : [];
      case 'thread/tokenUsage/updated': {
        if (!this.turnId || p.turnId !== this.turnId) return [];
        const last = p.tokenUsage?.last;
        if (last) {
          this.tokens.input += last.inputTokens;
          this.tokens.cachedInput += last.cachedInputTokens;
          this.tokens.cacheWrite += last.cacheWriteInputTokens;
          this.tokens.output += last.outputTokens;
        }
        const total = p.tokenUsage?.total;
        if (total)
          this.totals = {
            input: total.inputTokens,
            cachedInput: total.cachedInputTokens,
            cacheWrite: total.cacheWriteInputTokens,
            output: total.outputTokens,
          };
        return [];
      }
      case 'error': {
        const message = p.error?.message ?? 'unknown error';
        if (!p.willRetry) this.lastError = message;
        return [
          {
            type: 'log',
            level: 'warn',
            msg: `codex${p.willRetry ? ' (retrying)' : ''}: ${clip(message)}`,
          },
        ];
      }
      case 'turn/completed': {
        const status = p.turn?.status;
        if (status === 'completed') this.end = { status: 'completed' };
        else if (status === 'interrupted') this.end = { status: 'interrupted' };
        else
          this.end = {
            status: 'failed',
            message: p.turn?.error?.message ?? this.lastError ?? 'the turn failed',
          };
        return [];
      }
      default:
        return [];
    }
  }

  private completed(item: Item): RunnerEvent[] {
    switch (item.type) {
      case 'agentMessage': {
        const earlier = this.reply;
        this.reply = item.text ?? '';
        return earlier
          ? [{ type: 'log', level: 'debug', msg: `codex preamble (${earlier.length} chars)` }]
          : [];
      }
      case 'commandExecution':
        return [
          {
            type: 'log',
            level: 'debug',
            msg: `codex ran a command (${item.status ?? '?'}, exit ${item.exitCode ?? '?'})`,
          },
        ];
      case 'mcpToolCall':
        return [
          {
            type: 'log',
            level: item.status === 'failed' ? 'warn' : 'debug',
            msg: `codex called ${item.server ?? '?'}.${item.tool ?? '?'} (${item.status ?? '?'})`,
          },
        ];
      default:
        return [];
    }
  }
}

/** A tool step's start as a `tool` event: what runs, never its output. */
function started(item: Item): RunnerEvent[] {
  const tool = (name: string, summary: string): RunnerEvent[] => [
    { type: 'tool', name, summary: clip(summary.replace(/\s+/g, ' ').trim(), 200) },
  ];
  switch (item.type) {
    case 'commandExecution':
      return tool('shell', unwrapShell(item.command ?? ''));
    case 'mcpToolCall':
      return tool(`${item.server ?? '?'}.${item.tool ?? '?'}`, `call ${item.tool ?? 'a tool'}`);
    case 'fileChange': {
      const paths = (item.changes ?? []).flatMap((c) => (c.path ? [c.path] : []));
      return tool('edit', paths.length ? `edit ${paths.join(', ')}` : 'edit files');
    }
    case 'webSearch':
      return tool('web_search', item.query ? `search "${item.query}"` : 'search the web');
    default:
      return [];
  }
}
