import { join } from 'node:path';
import type {
  HookCallback,
  SDKAssistantMessage,
  SDKAssistantMessageError,
} from '@anthropic-ai/claude-agent-sdk';
import type { RunnerEvent, StartRequest } from '../../../protocol/runner-protocol.js';
import { archiveTranscript } from './archive.js';
import { authError, redact, SESSION_MISSING, turnError } from './errors.js';
import { LiveQuery, loadQuery, type QueryFn } from './live-query.js';
import { buildOptions, claudePaths, credentialProblem, type ClaudePaths } from './options.js';
import { cumulativeTotals, UsageLedger } from './usage-ledger.js';
import type { Harness, HarnessFactory } from '../harness.js';
import { IpcClient } from '../../mcp/ipc-client.js';
import { ToolPermissions } from './permissions.js';
import { claudeOptionsSchema, type ClaudeOptions } from './spec.js';

type Env = Readonly<Record<string, string | undefined>>;
type LogEvent = Extract<RunnerEvent, { type: 'log' }>;
/** How a turn's message stream ended. */
type Outcome = 'done' | 'session-missing';

const STDERR_TAIL = 2000;

/** The text blocks of one assistant message, joined. */
function textOf(m: SDKAssistantMessage): string {
  return m.message.content
    .map((b) => (b.type === 'text' ? b.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** Input keys that say best what a tool step does, most telling first. */
const SUMMARY_KEYS = ['command', 'file_path', 'path', 'url', 'query', 'pattern', 'description'];

/** A short line for a live view: what the tool was asked to do. */
function toolSummary(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const rec = input as Record<string, unknown>;
  const key = SUMMARY_KEYS.find((k) => typeof rec[k] === 'string');
  const value = key ? rec[key] : Object.values(rec).find((v) => typeof v === 'string');
  if (typeof value !== 'string') return '';
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/**
 * The `claude` harness: Claude Code through the Agent SDK's `query()`, kept alive between the
 * turns of one run (streaming input), resumed by session id across runs.
 *
 * Contract per turn: zero or more `message` events (one per main-thread assistant message with
 * text), with `partial` text deltas while each is written and a `tool` event per tool call it
 * starts, then exactly one `result` (session id + this turn's tokens and cost) or one `error`.
 * A resume of a session that no longer exists yields nothing for that attempt, a `log` event,
 * and one fresh attempt. A refused credential is a non-retryable error naming the variables.
 */
export class ClaudeHarness implements Harness {
  readonly name = 'claude';
  private live: LiveQuery | undefined;
  private stderrTail = '';
  private readonly notes: LogEvent[] = [];
  private readonly paths: ClaudePaths;
  private readonly ledger: UsageLedger;
  private readonly options: ClaudeOptions;
  private readonly permissions: ToolPermissions;

  constructor(
    private readonly start: StartRequest,
    private readonly env: Env,
  ) {
    this.paths = claudePaths(env);
    this.ledger = new UsageLedger(join(this.paths.configDir, 'clawpod-usage'));
    this.options = claudeOptionsSchema.parse(start.harnessOptions ?? {});
    const ipc = new IpcClient(this.paths.ipcDir, start.sessionToken);
    this.permissions = new ToolPermissions(
      (args) => ipc.request('approve_tool', args),
      start.guardedTools ?? [],
    );
  }

  async *turn(
    prompt: string,
    sessionId: string | null,
    signal: AbortSignal,
  ): AsyncGenerator<RunnerEvent> {
    const missing = credentialProblem(this.env);
    if (missing) {
      yield { type: 'error', message: missing, retryable: false };
      return;
    }
    let query: QueryFn;
    try {
      query = await loadQuery();
    } catch (err) {
      yield {
        type: 'error',
        message: `the Claude Agent SDK could not be loaded (${(err as Error).message}); run npm install in the clawpod folder`,
        retryable: false,
      };
      return;
    }
    let resume = sessionId;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (signal.aborted) {
        yield { type: 'error', message: 'the turn was aborted' };
        return;
      }
      const live = this.liveFor(query, resume);
      live.push(prompt);
      const onAbort = () => live.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      try {
        const outcome = yield* this.pump(live, signal);
        settled = true;
        if (outcome === 'session-missing' && attempt === 0 && resume) {
          this.drop();
          yield {
            type: 'log',
            level: 'warn',
            msg: `claude: session ${resume} no longer exists; starting a fresh session`,
          };
          resume = null;
          continue;
        }
        if (outcome === 'session-missing') {
          yield { type: 'error', message: 'Claude Code found no conversation to continue' };
        }
        return;
      } finally {
        signal.removeEventListener('abort', onAbort);
        // A turn left half-read (the consumer stopped, or something threw) poisons the process.
        if (!settled) this.drop(true);
      }
    }
  }

  close(): void {
    this.drop();
  }

  /** Ends the live process: gracefully (its transcript is flushed) or, with `kill`, at once. */
  private drop(kill = false): void {
    if (kill) this.live?.abort();
    else this.live?.close();
    this.live = undefined;
  }

  /** The live process for `resume`, or a new one (resuming it when set). */
  private liveFor(query: QueryFn, resume: string | null): LiveQuery {
    const live = this.live;
    if (live && !live.broken && resume !== null && live.sessionId === resume) return live;
    this.drop();
    this.stderrTail = '';
    const abortController = new AbortController();
    const options = buildOptions({
      start: this.start,
      options: this.options,
      env: this.env,
      paths: this.paths,
      abortController,
      resume,
      hooks: { PreCompact: [{ hooks: [this.preCompact] }] },
      stderr: (d) => (this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL)),
      permissions: this.permissions,
    });
    this.live = new LiveQuery(query, options, resume, abortController);
    return this.live;
  }

  /** PreCompact: the transcript goes to the group's conversations/ before it is summarised. */
  private readonly preCompact: HookCallback = async (input) => {
    if (input.hook_event_name !== 'PreCompact') return { continue: true };
    try {
      const file = archiveTranscript(input.transcript_path, this.paths.workdir);
      this.notes.push({
        type: 'log',
        level: 'info',
        msg: `claude: transcript archived to ${file}`,
      });
    } catch (err) {
      this.notes.push({
        type: 'log',
        level: 'warn',
        msg: `claude: could not archive the transcript before compaction: ${(err as Error).message}`,
      });
    }
    return { continue: true };
  };

  private failure(what: string): RunnerEvent {
    const tail = this.stderrTail.trim().slice(-500);
    return {
      type: 'error',
      message: redact(`${what}${tail ? `: ${tail}` : ''}`, this.env),
    };
  }

  /** Reads the live process's messages until this turn's `result`. */
  private async *pump(live: LiveQuery, signal: AbortSignal): AsyncGenerator<RunnerEvent, Outcome> {
    let apiError: SDKAssistantMessageError | undefined;
    let spoke = false;
    // Whether text was streamed in this turn; null: yes, and a new message has started since.
    let streamed: boolean | null = false;
    for (;;) {
      yield* this.notes.splice(0);
      let step;
      try {
        step = await live.next();
      } catch (err) {
        this.drop();
        const message = err instanceof Error ? err.message : String(err);
        if (signal.aborted) {
          yield { type: 'error', message: 'the turn was aborted' };
          return 'done';
        }
        if (!spoke && SESSION_MISSING.test(message)) return 'session-missing';
        yield this.failure(`Claude Code failed: ${message}`);
        return 'done';
      }
      if (step.done) {
        this.drop();
        if (signal.aborted) yield { type: 'error', message: 'the turn was aborted' };
        else yield this.failure('Claude Code ended before answering');
        return 'done';
      }
      const m = step.value;
      if (m.type === 'system' && m.subtype === 'init') {
        live.sessionId = m.session_id;
      } else if (m.type === 'system' && m.subtype === 'api_retry') {
        // A refused credential stays refused: report it now instead of after the retries.
        if (m.error === 'authentication_failed') {
          this.drop(true);
          yield authError(`HTTP ${m.error_status ?? 401}`);
          return 'done';
        }
      } else if (m.type === 'stream_event') {
        if (m.parent_tool_use_id !== null) continue; // a subagent's inner work
        const ev = m.event;
        if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta' && ev.delta.text) {
          // A new assistant message after earlier text starts a new paragraph in live views.
          if (streamed === null) yield { type: 'partial', text: '\n\n' };
          streamed = true;
          yield { type: 'partial', text: ev.delta.text };
        } else if (ev.type === 'message_start' && streamed) streamed = null;
      } else if (m.type === 'assistant') {
        if (m.parent_tool_use_id !== null) continue; // a subagent's inner work
        if (m.error) {
          apiError = m.error; // a synthetic message describing an API error, not a reply
          continue;
        }
        for (const b of m.message.content)
          if (b.type === 'tool_use')
            yield {
              type: 'tool',
              name: b.name.slice(0, 200),
              summary: redact(toolSummary(b.input), this.env).slice(0, 500),
            };
        const text = textOf(m);
        if (text.trim()) {
          spoke = true;
          yield { type: 'message', text };
        }
      } else if (m.type === 'result') {
        yield* this.notes.splice(0);
        if (m.subtype !== 'success' && !spoke && m.errors.some((e) => SESSION_MISSING.test(e)))
          return 'session-missing';
        if (m.is_error || m.subtype !== 'success') {
          this.drop();
          const e = turnError(m, apiError, this.start.model ?? '');
          yield { ...e, message: redact(e.message, this.env) };
          return 'done';
        }
        live.sessionId = m.session_id;
        yield {
          type: 'result',
          resumeId: m.session_id,
          usage: this.ledger.turn(m.session_id, cumulativeTotals(m)),
        };
        return 'done';
      }
    }
  }
}

export const createHarness: HarnessFactory = (start, env) => new ClaudeHarness(start, env);
