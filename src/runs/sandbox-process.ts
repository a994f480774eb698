import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import {
  runnerEventSchema,
  type HostLine,
  type RunnerEvent,
  type StartRequest,
  type TurnInput,
} from '../protocol/runner-protocol.js';
import { optionsFor } from '../groups/harness-options.js';
import { SandboxError } from '../sandbox/errors.js';
import type { Runtime } from '../sandbox/runtime.js';
import type { AgentProcess, SessionSpec } from './agent-process.js';
import { EventStream } from './event-stream.js';
import { launchSandbox, type LaunchDeps } from './sandbox-launch.js';

export interface SandboxProcessOptions extends LaunchDeps {
  log: Logger;
}

/** The process's lifecycle, one state at a time. */
type State =
  | { name: 'launching'; pending: HostLine[] }
  | { name: 'running'; write: (line: HostLine) => void; kill: () => void }
  | { name: 'ended' };

/**
 * One sandboxed runner speaking the runner protocol on stdio: the start request and turn
 * inputs go to its stdin (buffered while the sandbox launches), events come from its stdout.
 */
export class SandboxProcess implements AgentProcess {
  private readonly stream = new EventStream<RunnerEvent>();
  readonly events: AsyncIterable<RunnerEvent> = this.stream;
  private state: State = { name: 'launching', pending: [] };
  private readonly log: Logger;

  constructor(
    private readonly spec: SessionSpec,
    private readonly runtime: Runtime,
    private readonly opts: SandboxProcessOptions,
    /** The harness's npm packages, mounted read-only (HarnessSpec.packages). */
    private readonly packages: readonly string[] = [],
  ) {
    this.log = opts.log.child({
      group: spec.group.folder,
      session: spec.sessionId,
      runtime: runtime.name,
    });
    // A sandbox-layer error (refused mount, unreachable dir, bad spec) is a setup problem the
    // owner must fix: retrying cannot help, so it is reported at once.
    void this.launch().catch((err: unknown) =>
      this.fail(err instanceof Error ? err.message : String(err), !(err instanceof SandboxError)),
    );
  }

  private async launch(): Promise<void> {
    const g = this.spec.group;
    const launched = await launchSandbox(
      this.opts,
      this.runtime,
      {
        group: g,
        harness: this.spec.harness,
        packages: this.packages,
        label: this.spec.sessionId,
        timezone: this.spec.timezone,
        wallTimeMs: this.spec.maxLifeMs,
      },
      this.log,
    );
    const { handle } = launched;
    if (this.state.name !== 'launching') {
      // Killed while launching: the stream has already ended.
      handle.kill();
      return launched.closeEgress();
    }
    const start: StartRequest = {
      type: 'start',
      sessionId: this.spec.sessionId,
      sessionToken: this.spec.sessionToken,
      group: g.folder,
      isMain: g.isMain,
      harness: this.spec.harness,
      command: g.command,
      model: this.spec.model,
      resumeId: this.spec.resumeId,
      timezone: this.spec.timezone,
      assistantName: this.spec.assistantName,
      proxy: launched.proxy,
      harnessOptions: optionsFor(g, this.spec.harness),
      guardedTools: this.opts.guardedTools?.(g.folder) ?? [],
      ...(launched.extraMounts.length ? { mounts: launched.extraMounts } : {}),
    };
    handle.stdin.on('error', () => undefined);
    const write = (line: HostLine | StartRequest) =>
      handle.stdin.write(JSON.stringify(line) + '\n');
    write(start);
    const pending = this.state.pending;
    this.state = { name: 'running', write, kill: () => handle.kill() };
    for (const line of pending) write(line);

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
      if (ev.type === 'log') this.log[ev.level]({ from: 'runner' }, ev.msg);
      if (ev.type === 'error') sawError = true;
      this.stream.push(ev);
    });
    const exit = await handle.exited;
    this.state = { name: 'ended' };
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
    await launched
      .closeEgress()
      .catch((err: unknown) => this.log.warn({ err }, 'could not close the egress proxy'));
    this.stream.end();
  }

  private fail(message: string, retryable: boolean): void {
    this.log.error({ err: message }, 'sandbox could not start');
    this.stream.push({
      type: 'error',
      message: `The sandbox could not start: ${message}`,
      retryable,
    });
    this.state = { name: 'ended' };
    this.stream.end();
  }

  send(input: TurnInput): boolean {
    return this.writeLine(input);
  }

  close(): void {
    this.writeLine({ type: 'close' });
  }

  private writeLine(line: HostLine): boolean {
    if (this.state.name === 'ended') return false;
    if (this.state.name === 'launching') this.state.pending.push(line);
    else this.state.write(line);
    return true;
  }

  kill(reason: string): void {
    if (this.state.name === 'ended') return;
    this.log.warn({ reason }, 'ending the sandbox');
    if (this.state.name === 'running') return this.state.kill();
    // Still launching: end now; launch() kills the sandbox once it exists.
    this.state = { name: 'ended' };
    this.stream.push({
      type: 'error',
      message: `the sandbox was ended before it started (${reason})`,
    });
    this.stream.end();
  }
}
