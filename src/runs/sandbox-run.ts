import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { CLOSE_FILE } from '../protocol/ipc.js';
import { runnerEventSchema, type StartRequest } from '../protocol/runner-protocol.js';
import { SandboxError } from '../sandbox/errors.js';
import type { Runtime } from '../sandbox/runtime.js';
import { safeWriteFile } from '../sandbox/safe-fs.js';
import { EventStream } from './event-stream.js';
import type { AgentRun, RunnerEvent, RunSpec } from './runner.js';
import { launchSandbox, type LaunchDeps, type LaunchedSandbox } from './sandbox-launch.js';

export interface SandboxRunOptions extends LaunchDeps {
  log: Logger;
}

/** One sandboxed agent invocation: speaks the runner protocol with its sandbox. */
export class SandboxRun implements AgentRun {
  private readonly stream = new EventStream<RunnerEvent>();
  readonly events: AsyncIterable<RunnerEvent> = this.stream;
  private readonly acks = new Map<number, (ok: boolean) => void>();
  private readonly written = new Set<string>();
  private state: 'starting' | 'running' | 'ended' = 'starting';
  private kill_: () => void = () => undefined;
  /** Ends the run's egress proxy (set once it is open). */
  private closeEgress: () => Promise<void> = async () => undefined;
  private readonly log: Logger;
  private ipcDir = '';
  private markEnded!: () => void;
  /** Resolves when the sandbox is gone and the run's resources are released. */
  readonly ended = new Promise<void>((r) => (this.markEnded = r));

  constructor(
    private readonly spec: RunSpec,
    private readonly runtime: Runtime,
    private readonly opts: SandboxRunOptions,
    /** A sandbox started ahead for a `warm` group, waiting for this run's start request. */
    private readonly prewarmed?: Promise<LaunchedSandbox>,
  ) {
    this.log = opts.log.child({ group: spec.group.folder, run: spec.runId, runtime: runtime.name });
    // A sandbox-layer error (refused mount, unreachable dir, bad spec) is a setup problem the
    // owner must fix: retrying cannot help, so it is reported at once.
    void this.launch().catch((err: unknown) =>
      this.fail(err instanceof Error ? err.message : String(err), !(err instanceof SandboxError)),
    );
  }

  private async launch(): Promise<void> {
    const g = this.spec.group;
    const launched = await (this.prewarmed ??
      launchSandbox(
        this.opts,
        this.runtime,
        {
          group: g,
          harness: this.spec.harness,
          label: this.spec.runId,
          timezone: this.spec.timezone,
        },
        this.log,
      ));
    const { handle } = launched;
    this.ipcDir = launched.ipcDir;
    this.closeEgress = launched.closeEgress;
    this.clearInputs(); // unacknowledged leftovers of an earlier run: their messages are still pending
    const { config } = this.opts;
    this.kill_ = () => handle.kill();
    if (this.state === 'ended') {
      handle.kill();
      return this.closeEgress();
    }
    this.state = 'running';
    const start: StartRequest = {
      type: 'start',
      runId: this.spec.runId,
      group: g.folder,
      isMain: g.isMain,
      harness: this.spec.harness,
      command: g.command,
      model: this.spec.model,
      prompt: this.spec.prompt,
      sessionId: this.spec.sessionId ?? null,
      idleTimeoutMs: config.file.defaults.idleTimeoutMs,
      timezone: this.spec.timezone,
      assistantName: this.spec.assistantName,
      proxy: launched.proxy,
      effort: g.effort,
      agentTeams: g.agentTeams,
      provider: g.provider,
    };
    handle.stdin.on('error', () => undefined);
    handle.stdin.write(JSON.stringify(start) + '\n');
    let stderr = '';
    handle.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
    let sawError = false;
    createInterface({ input: handle.stdout }).on('line', (line) => {
      const parsed = (() => {
        try {
          return runnerEventSchema.safeParse(JSON.parse(line));
        } catch {
          return undefined;
        }
      })();
      if (!parsed?.success) {
        this.log.warn({ line: line.slice(0, 200) }, 'runner wrote a line outside the protocol');
        return;
      }
      const ev = parsed.data;
      if (ev.type === 'message') this.stream.push({ type: 'output', text: ev.text });
      else if (ev.type === 'result') {
        this.stream.push({
          type: 'turn-end',
          lastInputId: ev.inputId,
          usage: ev.usage,
          sessionId: ev.sessionId ?? undefined,
        });
      } else if (ev.type === 'error') {
        sawError = true;
        this.stream.push({ type: 'error', message: ev.message, retryable: ev.retryable });
      } else if (ev.type === 'ack') {
        this.written.delete(`${ev.inputId}.json`);
        this.acks.get(ev.inputId)?.(true);
        this.acks.delete(ev.inputId);
      } else if (ev.type === 'log') this.log[ev.level]({ from: 'runner' }, ev.msg);
    });
    const exit = await handle.exited;
    this.state = 'ended';
    if (!sawError && (exit.code !== 0 || exit.reason)) {
      const why =
        exit.reason ??
        exit.error ??
        (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
      this.log.warn({ exit, stderr: stderr.slice(-1000) }, 'sandbox ended abnormally');
      this.stream.push({
        type: 'error',
        message: `the sandbox ended abnormally (${why})${stderr ? `: ${stderr.trim().slice(-300)}` : ''}`,
      });
    }
    this.end();
  }

  private fail(message: string, retryable: boolean): void {
    this.log.error({ err: message }, 'sandbox could not start');
    this.stream.push({
      type: 'error',
      message: `The sandbox could not start: ${message}`,
      retryable,
    });
    this.state = 'ended';
    this.end();
  }

  private end(): void {
    void this.closeEgress().catch((err: unknown) =>
      this.log.warn({ err }, 'could not close the egress proxy'),
    );
    for (const resolveAck of this.acks.values()) resolveAck(false);
    this.acks.clear();
    this.clearInputs();
    this.stream.end();
    this.markEnded();
  }

  /** Removes input files nobody acknowledged (accounted for: their messages stay pending). */
  private clearInputs(): void {
    const dir = join(this.ipcDir, 'input');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.endsWith('.json') || n === CLOSE_FILE || n.endsWith('.tmp')) unlinkSync(join(dir, n));
    }
  }

  async handOff(inputId: number, prompt: string): Promise<boolean> {
    if (this.state !== 'running') return false;
    const acked = new Promise<boolean>((r) => this.acks.set(inputId, r));
    try {
      await safeWriteFile(
        this.ipcDir,
        `input/${inputId}.json`,
        JSON.stringify({ id: inputId, prompt }),
      );
    } catch (err) {
      this.log.warn({ err }, 'could not write a follow-up input');
      this.acks.delete(inputId);
      return false;
    }
    return acked;
  }

  close(): void {
    if (this.state !== 'running') return;
    void safeWriteFile(this.ipcDir, `input/${CLOSE_FILE}`, '').catch(() => this.kill_());
  }

  kill(reason: string): void {
    this.log.warn({ reason }, 'ending the sandbox');
    if (this.state === 'starting') this.state = 'ended';
    this.kill_();
  }
}
