// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { CodexTotals } from './usage.js';
import type { RunnerEvent } from '../../../protocol/runner-protocol.js';

/**
 * Reads the JSONL that `codex exec --json` writes on stdout for one turn (seen with 0.171):
 *
 *   {"type":"thread.started","thread_id":"…"}          → the session id for `codex exec resume`
 *   {"type":"turn.started"}
 *   {"type":"item.started"|"item.updated"|"item.completed","item":{"type":…}}
 *       agent_message {text}, reasoning, command_execution {command, exit_code, status},
 *       mcp_tool_call {server, tool, status}, file_change, web_search, todo_list,
 *       error {message} (a warning, e.g. unknown model metadata)
 *   {"type":"error","message":"…"}                      → a warning, or the cause before turn.failed
 *   {"type":"turn.completed","usage":{input_tokens, cached_input_tokens,
 *       cache_write_input_tokens, output_tokens, reasoning_output_tokens}}   (thread totals)
 *   {"type":"turn.failed","error":{"message":"…"}}      → the turn failed
 *
 * Only the turn's last agent_message is the reply: earlier ones are Codex's preambles ("I'll
 * look at…") and go to the log. Unknown lines and fields are ignored, so a newer Codex that adds
 * events keeps working.
 */
const count = z._default(z.catch(z.number().check(z.nonnegative()), 0), 0);
const lineSchema = z.looseObject({
  type: z.string(),
  thread_id: z.optional(z.string()),
  message: z.optional(z.string()),
  item: z.optional(
    z.looseObject({
      type: z.string(),
      text: z.optional(z.string()),
      message: z.optional(z.string()),
      status: z.optional(z.string()),
      exit_code: z.optional(z.nullable(z.number())),
      server: z.optional(z.string()),
      tool: z.optional(z.string()),
    }),
  ),
  usage: z.optional(
    z.looseObject({
      input_tokens: count,
      cached_input_tokens: count,
      cache_write_input_tokens: count,
      output_tokens: count,
    }),
  ),
  error: z.optional(z.looseObject({ message: z.optional(z.string()) })),
});

type LogEvent = Extract<RunnerEvent, { type: 'log' }>;

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** What one turn's stdout said, fed line by line. */
export class CodexTurnReader {
  threadId: string | null = null;
  /** The reply: the last agent message of the turn. */
  reply: string | null = null;
  /** Thread totals from turn.completed; set means the turn succeeded. */
  totals: CodexTotals | null = null;
  /** turn.failed's message (or the last `error` event before it). */
  failure: string | null = null;
  private lastError: string | null = null;
  /** Lines that were not JSON (Codex should write none on stdout). */
  strayLines = 0;

  /** Feeds one stdout line; returns log notes to pass on at once. */
  line(text: string): LogEvent[] {
    if (!text.trim()) return [];
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.strayLines++;
      return [];
    }
    const parsed = lineSchema.safeParse(raw);
    if (!parsed.success) return [];
    const ev = parsed.data;
    switch (ev.type) {
      case 'thread.started':
        if (ev.thread_id) this.threadId = ev.thread_id;
        return [];
      case 'item.completed':
        return this.item(ev.item);
      case 'error':
        this.lastError = ev.message ?? 'unknown error';
        return [{ type: 'log', level: 'warn', msg: `codex: ${clip(this.lastError)}` }];
      case 'turn.completed': {
        const u = ev.usage;
        this.totals = {
          input: u?.input_tokens ?? 0,
          cachedInput: u?.cached_input_tokens ?? 0,
          cacheWrite: u?.cache_write_input_tokens ?? 0,
          output: u?.output_tokens ?? 0,
        };
        return [];
      }
      case 'turn.failed':
        this.failure = ev.error?.message ?? this.lastError ?? 'the turn failed';
        return [];
      default:
        return [];
    }
  }

  private item(item: z.infer<typeof lineSchema>['item']): LogEvent[] {
    if (!item) return [];
    switch (item.type) {
      case 'agent_message': {
        const earlier = this.reply;
        this.reply = item.text ?? '';
        return earlier
          ? [{ type: 'log', level: 'debug', msg: `codex preamble (${earlier.length} chars)` }]
          : [];
      }
      case 'error': {
        // Expected for every model Codex has no metadata for (Ollama, vLLM…): not worth a warning.
        const known = /^Model metadata for .* not found/.test(item.message ?? '');
        const level = known ? 'debug' : 'warn';
        return [{ type: 'log', level, msg: `codex: ${clip(item.message ?? '')}` }];
      }
      // Tool activity: what and how it ended, never its arguments or output.
      case 'command_execution':
        return [
          {
            type: 'log',
            level: 'debug',
            msg: `codex ran a command (${item.status ?? '?'}, exit ${item.exit_code ?? '?'})`,
          },
        ];
      case 'mcp_tool_call':
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

/** Why a turn failed, as the chat should read it, and whether a retry can help. */
export interface TurnFailure {
  message: string;
  retryable: boolean;
}

/**
 * Classifies Codex's failure message. A refused or missing key, an unknown model or a bad
 * request cannot be fixed by retrying: the owner must act, so the message says what to set.
 */
export function classifyFailure(
  codexMessage: string,
  ctx: { envKey: string | null; providerName: string; model: string | null },
): TurnFailure {
  const said = clip(codexMessage.replace(/,?\s*url: \S+/g, '').trim(), 400);
  const keyHint = ctx.envKey
    ? `set a valid ${ctx.envKey} for clawpod (in its environment or $CLAWPOD_HOME/.env) and restart it`
    : `check the credentials of ${ctx.providerName}`;
  if (/missing environment variable/i.test(said)) {
    return {
      message: `Codex has no API key for ${ctx.providerName}: ${keyHint}.`,
      retryable: false,
    };
  }
  if (/\b(401|403)\b|unauthori[sz]ed|invalid_api_key|incorrect api key|forbidden/i.test(said)) {
    return {
      message: `${ctx.providerName} refused the API key (${said}): ${keyHint}.`,
      retryable: false,
    };
  }
  if (/\b404\b|model_not_found|does not exist/i.test(said)) {
    return {
      message: `${ctx.providerName} does not know the model${ctx.model ? ` "${ctx.model}"` : ''} or the URL (${said}). Check the group's model and provider.`,
      retryable: false,
    };
  }
  return { message: `Codex failed: ${said}`, retryable: true };
}
