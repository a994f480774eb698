import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { CodexCommand } from './binary.js';

/**
 * A `codex app-server` process and its JSON-RPC 2.0 connection on stdio (one JSON object per
 * line, no `"jsonrpc"` member; seen with 0.171):
 * - client → server requests `{id, method, params}`, answered `{id, result}` or `{id, error}`;
 * - server → client notifications `{method, params}` (turn and item events);
 * - server → client requests `{id, method, params}` (approvals), which we must answer.
 * Lifecycle: running → exited (the process ended; every pending request is rejected with why).
 */

const messageSchema = z.looseObject({
  id: z.optional(z.union([z.string(), z.number()])),
  method: z.optional(z.string()),
  params: z.optional(z.unknown()),
  result: z.optional(z.unknown()),
  error: z.optional(z.looseObject({ code: z.optional(z.number()), message: z.string() })),
});

/** A JSON-RPC error answer from the app-server, or its exit while a request was open. */
export class AppServerError extends Error {
  constructor(
    message: string,
    /** The JSON-RPC error code; null when the process ended. */
    readonly code: number | null,
  ) {
    super(message);
    this.name = 'AppServerError';
  }
}

/** How a server request is answered: a result, or a JSON-RPC error. */
export type ServerRequestAnswer =
  { result: unknown } | { error: { code: number; message: string } };

export interface AppServerHandlers {
  /** A notification (`turn/completed`, `item/started`, …). */
  notification(method: string, params: unknown): void;
  /** A request from the server (approvals); its answer goes back under the same id. */
  request(method: string, params: unknown): Promise<ServerRequestAnswer>;
}

type State =
  | { name: 'running'; child: ChildProcess }
  | { name: 'exited'; code: number | null; signal: string | null };

/** Grace between SIGTERM and SIGKILL when the server is stopped. */
const KILL_GRACE_MS = 3000;
/** Bytes of stderr kept for error messages. */
const STDERR_KEEP = 4000;

export class AppServerClient {
  private state: State;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void }
  >();
  private stderr = '';
  /** Resolves when the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    codex: CodexCommand,
    opts: { cwd: string; env: Record<string, string> },
    private readonly handlers: AppServerHandlers,
  ) {
    const child = spawn(codex.command, [...codex.prefix, 'app-server'], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: stopping it ends what it started
    });
    this.state = { name: 'running', child };
    child.stdin!.on('error', () => undefined);
    child.stderr!.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: string | null) => {
        if (this.state.name === 'exited') return;
        this.state = { name: 'exited', code, signal };
        const why = new AppServerError(this.exitMessage(), null);
        for (const p of this.pending.values()) p.reject(why);
        this.pending.clear();
        resolve({ code, signal });
      };
      child.once('error', (err) => {
        this.stderr += String(err);
        done(null, null);
      });
      child.once('close', (code, signal) => done(code, signal));
    });
  }

  get running(): boolean {
    return this.state.name === 'running';
  }

  /** Sends a request; resolves with its result, rejects with an AppServerError. */
  request(method: string, params: unknown): Promise<unknown> {
    if (this.state.name !== 'running')
      return Promise.reject(new AppServerError(this.exitMessage(), null));
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    this.write({ id, method, params });
    return answer;
  }

  /** Sends a notification (no answer). */
  notify(method: string, params?: unknown): void {
    this.write(params === undefined ? { method } : { method, params });
  }

  /** What the process said last on stderr, trimmed to a few lines. */
  stderrTail(lines = 3): string {
    return this.stderr.trim().split('\n').slice(-lines).join(' ').slice(-500);
  }

  /** Stops the process group: SIGTERM, SIGKILL after a grace period. */
  stop(): void {
    if (this.state.name !== 'running') return;
    const pid = this.state.child.pid;
    if (!pid) return;
    const send = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    send('SIGTERM');
    const timer = setTimeout(() => send('SIGKILL'), KILL_GRACE_MS);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Why the process is gone (or that it runs), with its last stderr lines. */
  exitMessage(): string {
    const s = this.state;
    const how =
      s.name === 'running'
        ? 'is running'
        : s.signal
          ? `was stopped by ${s.signal}`
          : `exited with ${s.code ?? 'an error'}`;
    const tail = this.stderrTail();
    return `codex app-server ${how}${tail ? `: ${tail}` : ''}`;
  }

  private write(msg: unknown): void {
    if (this.state.name !== 'running') return;
    this.state.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return; // the server writes only JSON on stdout; anything else is ignored
    }
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.method !== undefined && msg.id !== undefined) {
      const id = msg.id;
      void this.handlers
        .request(msg.method, msg.params)
        .catch((err: unknown) => ({
          error: { code: -32603, message: err instanceof Error ? err.message : String(err) },
        }))
        .then((answer) => this.write({ id, ...answer }));
    } else if (msg.method !== undefined) {
      this.handlers.notification(msg.method, msg.params);
    } else if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new AppServerError(msg.error.message, msg.error.code ?? -32000));
      else p.resolve(msg.result);
    }
  }
}
