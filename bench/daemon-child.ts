/**
 * A real `bin/clawpod start` as a child process, for benchmarks that watch it from outside: its
 * JSON log lines (stdout is not a TTY), its HTTP API and SSE stream, its pid (RSS, signals,
 * sandbox children).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { openEventStream, type EventSubscription } from '../src/cli/event-stream.js';
import type { SseEvent } from '../src/cli/sse.js';

const ROOT = resolve(import.meta.dirname, '..');

/** One pino line of the daemon's log. */
export interface LogLine {
  msg: string;
  level: number;
  [key: string]: unknown;
}

/** A fresh data dir with `config.yaml` (and `.env` when given). */
export function benchHome(prefix: string, configYaml: string, dotenv?: string): string {
  const home = mkdtempSync(join(tmpdir(), `clawpod-bench-${prefix}-`));
  writeFileSync(join(home, 'config.yaml'), configYaml);
  if (dotenv) writeFileSync(join(home, '.env'), dotenv, { mode: 0o600 });
  return home;
}

/** Daemons still running when the benchmark process exits (a failed run) are killed with it. */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of started) proc.kill('SIGKILL');
  if (home_) rmSync(home_, { recursive: true, force: true });
});

let home_: string | undefined;
const userHome = () => (home_ ??= mkdtempSync(join(tmpdir(), 'clawpod-bench-user-')));

/** A started daemon process. */
export class DaemonChild {
  private readonly watchers = new Set<(line: LogLine) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private constructor(
    readonly proc: ChildProcess,
    readonly home: string,
  ) {
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    createInterface({ input: proc.stdout! }).on('line', (raw) => {
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        return;
      }
      for (const w of [...this.watchers]) w(line);
    });
  }

  url = '';
  token = '';

  get pid(): number {
    return this.proc.pid!;
  }

  /** Starts `bin/clawpod start` on `home`; resolves once it logged "clawpod is running". */
  static async start(home: string, env: Record<string, string> = {}): Promise<DaemonChild> {
    const proc = spawn(process.execPath, [join(ROOT, 'bin/clawpod'), 'start'], {
      // HOME apart from the data dir (the mount allowlist under ~/.config must be outside it).
      env: { PATH: process.env.PATH, HOME: userHome(), CLAWPOD_HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    started.add(proc);
    proc.once('exit', () => started.delete(proc));
    const child = new DaemonChild(proc, home);
    const running = child.nextLog((l) => l.msg === 'clawpod is running');
    const failed = child.exited.then(({ code, signal }) => {
      throw new Error(`the daemon exited (${code ?? signal}) before it ran: ${stderr}`);
    });
    const line = await Promise.race([running, failed]);
    child.url = String(line.url).replace(/\/$/, '');
    child.token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    return child;
  }

  /** Calls `fn` for every log line from now on; returns the unsubscribe. */
  onLog(fn: (line: LogLine) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** The next log line matching `pred`. */
  nextLog(pred: (line: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolveLine) => {
      const off = this.onLog((l) => {
        if (!pred(l)) return;
        off();
        resolveLine(l);
      });
    });
  }

  /** An authenticated API call. */
  api(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    return fetch(this.url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  /** Opens `/api/events`; resolves once the daemon said `ready` (listeners are attached). */
  async events(onEvent: (ev: SseEvent) => void): Promise<EventSubscription> {
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const sub = await openEventStream({
      url: `${this.url}/api/events`,
      token: this.token,
      baseUrl: this.url,
      onEvent: (ev) => (ev.event === 'ready' ? ready() : onEvent(ev)),
    });
    await isReady;
    return sub;
  }

  /** Resident set size now and at its peak (VmHWM), in MB. */
  rss(): { now: number; peak: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  }

  /** Pids of the daemon's direct children (the sandboxes: prlimit execs bwrap in place). */
  children(): number[] {
    const out: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // `pid (comm) state ppid …`; comm may hold spaces, so parse after the last ')'.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === this.pid) out.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.exited;
  }
}
