import { spawn, type ChildProcess } from 'node:child_process';
import type {
  Options,
  Query,
  SDKMessage,
  SDKUserMessage,
  SpawnOptions,
} from '@anthropic-ai/claude-agent-sdk';

/** The SDK's `query()`. */
export type QueryFn = typeof import('@anthropic-ai/claude-agent-sdk').query;

let sdk: Promise<QueryFn> | undefined;

/**
 * Loads the Claude Agent SDK on first use (a dynamic import, so the runner bundle keeps it
 * external and loads it from the mounted package only for a claude run).
 */
export function loadQuery(): Promise<QueryFn> {
  sdk ??= import('@anthropic-ai/claude-agent-sdk').then((m) => m.query);
  return sdk;
}

/**
 * One Claude Code process fed through streaming input: `push` adds a user turn, `next` reads
 * the process's messages in order (one `result` per pushed turn). Keeping the process between
 * turns makes a follow-up start in milliseconds instead of a fresh process and resume.
 */
export class LiveQuery {
  private readonly pending: SDKUserMessage[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly q: Query;
  private child: ChildProcess | undefined;
  /** The session this process continues or started (known from `system/init` or `result`). */
  sessionId: string | null;
  /** Set once a turn was left unfinished: the process must not be reused. */
  broken = false;

  constructor(
    query: QueryFn,
    options: Options,
    resume: string | null,
    private readonly abortController: AbortController,
  ) {
    this.sessionId = resume;
    this.q = query({
      prompt: this.input(),
      options: { ...options, spawnClaudeCodeProcess: (o) => this.spawn(o, options.stderr) },
    });
  }

  /** Spawns Claude Code ourselves, so that `abort` can end it at once (see there). */
  private spawn(
    o: SpawnOptions,
    stderr: Options['stderr'],
  ): ChildProcess & {
    stdin: NonNullable<ChildProcess['stdin']>;
    stdout: NonNullable<ChildProcess['stdout']>;
  } {
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: o.signal,
    });
    child.on('error', () => undefined); // reported by the SDK through the exit
    child.stderr.on('data', (b: Buffer) => stderr?.(b.toString('utf8')));
    this.child = child;
    return child;
  }

  private async *input(): AsyncGenerator<SDKUserMessage> {
    while (!this.ended) {
      const next = this.pending.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  push(text: string): void {
    this.pending.push({
      type: 'user',
      message: { role: 'user', content: text },
      parent_tool_use_id: null,
    });
    this.wake?.();
  }

  next(): Promise<IteratorResult<SDKMessage, void>> {
    return this.q.next();
  }

  /** Ends the process: closes its input, then its transport. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.broken = true;
    this.wake?.();
    try {
      this.q.close();
    } catch {
      // already gone
    }
  }

  /**
   * Stops the current turn and the process at once. The SDK's own abort gives Claude Code a
   * grace period, during which it keeps retrying a failed request; a dead credential or a
   * dead run must not keep talking to the API.
   */
  abort(): void {
    this.abortController.abort();
    this.close();
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
