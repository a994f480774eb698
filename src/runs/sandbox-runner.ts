import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Egress } from '../egress/egress.js';
import type { Group } from '../groups/group-schema.js';
import { CLOSE_FILE, IPC_DIRS } from '../protocol/ipc.js';
import { runnerEventSchema, type StartRequest } from '../protocol/runner-protocol.js';
import { defaultAllowlistPath } from '../sandbox/allowlist.js';
import { SandboxError } from '../sandbox/errors.js';
import { buildGroupMounts, SANDBOX_PATHS } from '../sandbox/mount-policy.js';
import { mapToHost } from '../sandbox/none.js';
import { createRuntimes, selectRuntime, type RuntimeSelection } from '../sandbox/registry.js';
import type { Mount, Runtime } from '../sandbox/runtime.js';
import { safeWriteFile } from '../sandbox/safe-fs.js';
import { EventStream } from './event-stream.js';
import { openRunEgress } from './run-egress.js';
import type { AgentRun, Runner, RunnerEvent, RunnerProblem, RunSpec } from './runner.js';

/** Where the built runner lives on the host (the package root: dist/, node_modules/, package.json). */
const PACKAGE_ROOT = resolve(import.meta.dirname, '../..');
const AGENT_ROOT = '/opt/clawpod';

export interface SandboxRunnerOptions {
  config: Config;
  log: Logger;
  /** Harnesses this runner serves (each gets its own Runner entry). */
  harnesses: string[];
  /** Extra per-harness readiness checks (credentials…); undefined when ready. */
  harnessProblem?: (harness: string, group: Group) => RunnerProblem | undefined;
  /** Called before each sandbox starts (the IPC host makes sure it watches the group). */
  beforeRun?: (folder: string) => void;
  /** The credential/egress proxy; without it every sandbox has no network at all. */
  egress?: Egress;
}

type Probe = { ok: true; selection: RuntimeSelection } | { ok: false; message: string };

/**
 * Runs harnesses inside a sandbox: builds the mounts by the mount policy, spawns the in-sandbox
 * runner (`dist/agent/main.js`) with the group's runtime, speaks the runner protocol on
 * stdin/stdout, and hands follow-ups through `ipc/<group>/input/`.
 */
export class SandboxRunners {
  private runtimes = new Map<string, Runtime>();
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly opts: SandboxRunnerOptions) {}

  /** Creates the runtimes and probes the configured one (groups' overrides on first use). */
  async init(): Promise<void> {
    const { config, log } = this.opts;
    this.runtimes = createRuntimes({
      logger: log.child({ part: 'sandbox' }),
      image: config.file.sandbox.image,
      owner: createHash('sha256').update(config.paths.home).digest('hex').slice(0, 16),
    });
    await this.probe(config.file.runtime);
  }

  private async probe(name: string): Promise<void> {
    const { log } = this.opts;
    if (this.probes.has(name)) return;
    {
      try {
        const selection = await selectRuntime(name, this.runtimes);
        this.probes.set(name, { ok: true, selection });
        // Containers a crashed daemon of this installation left behind.
        await selection.runtime.cleanupOrphans?.();
        log.info(
          { runtime: selection.runtime.name, why: selection.why },
          'sandbox runtime selected',
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.probes.set(name, { ok: false, message });
        log.warn({ runtime: name, err: message }, 'sandbox runtime unavailable');
      }
    }
  }

  /** For status: what the configured runtime resolved to. */
  selection(name: string): { selected: string | null; why: string } {
    const p = this.probes.get(name);
    if (!p) return { selected: null, why: 'not probed yet' };
    return p.ok
      ? { selected: p.selection.runtime.name, why: p.selection.why }
      : { selected: null, why: p.message };
  }

  runners(): Runner[] {
    return this.opts.harnesses.map((harness) => ({
      harness,
      prepare: (group) => this.probe(this.runtimeName(group)),
      problem: (group) => this.problem(harness, group),
      start: (spec) => this.start(spec),
    }));
  }

  private runtimeName(group: Group): string {
    return group.runtime ?? this.opts.config.file.runtime;
  }

  private problem(harness: string, group: Group): RunnerProblem | undefined {
    const probe = this.probes.get(this.runtimeName(group));
    if (!probe)
      return {
        message: `Sandbox runtime "${this.runtimeName(group)}" was not probed; restart the daemon.`,
      };
    if (!probe.ok) return { message: `${probe.message}. Run \`clawpod doctor\` for the fix.` };
    if (harness === 'command' && !group.command) {
      return {
        message: `Group "${group.folder}" uses the command harness but has no command: clawpod groups set ${group.folder} command="<shell command>"`,
      };
    }
    return this.opts.harnessProblem?.(harness, group);
  }

  private start(spec: RunSpec): AgentRun {
    const probe = this.probes.get(this.runtimeName(spec.group));
    if (!probe?.ok) throw new Error('sandbox runtime unavailable');
    return new SandboxRun(spec, probe.selection.runtime, this.opts);
  }
}

/** The user the sandbox runs as: the configured one when the daemon is root, else the daemon's. */
function sandboxUser(config: Config): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 1000;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid };
  return { uid: config.file.sandbox.uid, gid: config.file.sandbox.gid };
}

/**
 * Creates the group's folder, IPC queues and session dir. A root daemon hands them to the
 * sandbox user and lets it traverse (not list) the data dir.
 */
function prepareDirs(
  config: Config,
  folder: string,
  user: { uid: number; gid: number },
): { ipcDir: string; sessionDir: string } {
  const { paths } = config;
  const groupDir = join(paths.groups, folder);
  const ipcDir = join(paths.ipc, folder);
  const sessionDir = join(paths.sessions, folder);
  mkdirSync(groupDir, { recursive: true });
  for (const d of IPC_DIRS) mkdirSync(join(ipcDir, d), { recursive: true });
  mkdirSync(sessionDir, { recursive: true });
  if (process.getuid?.() === 0) {
    for (const d of [paths.home, paths.groups, paths.ipc, paths.sessions]) chmodSync(d, 0o711);
    const globalDir = join(paths.groups, 'global');
    for (const d of [groupDir, ipcDir, sessionDir, globalDir]) handOver(d, user);
  }
  return { ipcDir, sessionDir };
}

/**
 * Gives a directory tree to the sandbox user. Only when its top is not theirs yet (first run),
 * so big folders are not walked on every run; symlinks are changed, never followed.
 */
function handOver(dir: string, user: { uid: number; gid: number }): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  if (st.isSymbolicLink() || st.uid === user.uid) return;
  const walk = (p: string) => {
    lchownSync(p, user.uid, user.gid);
    if (!lstatSync(p).isDirectory()) return;
    for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
}

/** One sandboxed agent invocation. */
class SandboxRun implements AgentRun {
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

  constructor(
    private readonly spec: RunSpec,
    private readonly runtime: Runtime,
    private readonly opts: SandboxRunnerOptions,
  ) {
    this.log = opts.log.child({ group: spec.group.folder, run: spec.runId, runtime: runtime.name });
    // A sandbox-layer error (refused mount, unreachable dir, bad spec) is a setup problem the
    // owner must fix: retrying cannot help, so it is reported at once.
    void this.launch().catch((err: unknown) =>
      this.fail(err instanceof Error ? err.message : String(err), !(err instanceof SandboxError)),
    );
  }

  private async launch(): Promise<void> {
    const { config } = this.opts;
    const g = this.spec.group;
    const user = sandboxUser(config);
    this.opts.beforeRun?.(g.folder);
    const { ipcDir, sessionDir } = prepareDirs(config, g.folder, user);
    this.ipcDir = ipcDir;
    this.clearInputs(); // unacknowledged leftovers of an earlier run: their messages are still pending
    const { mounts, warnings } = await buildGroupMounts(
      {
        dataDir: config.paths.home,
        allowlistPath: config.file.sandbox.allowlistPath ?? defaultAllowlistPath(homedir()),
        homeDir: homedir(),
        dbPath: config.paths.db,
      },
      { folder: g.folder, isMain: g.isMain, sessionDir },
    );
    for (const w of warnings) this.log.warn(w);
    const agentMounts: Mount[] = ['dist', 'node_modules', 'package.json'].map((p) => ({
      hostPath: join(PACKAGE_ROOT, p),
      sandboxPath: `${AGENT_ROOT}/${p}`,
      readOnly: true,
    }));
    const all = [...mounts, ...agentMounts];
    // The `none` runtime has no /workspace view: point the runner at the host paths instead.
    const at = (p: string) => (this.runtime.name === 'none' ? mapToHost(p, all) : p);
    const limits = { ...config.file.limits, ...g.limits };
    const egress = await openRunEgress(this.opts.egress, {
      group: g,
      runId: this.spec.runId,
      harness: this.spec.harness,
      runtime: this.runtime.name,
    });
    this.closeEgress = egress.close;
    const handle = this.runtime.spawn({
      id: `${g.folder}-${this.spec.runId}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '-'),
      command: ['node', at(`${AGENT_ROOT}/dist/agent/main.js`)],
      mounts: all,
      env: {
        ...g.env, // the group's extra, non-secret variables; the ones below always win
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: at(SANDBOX_PATHS.session),
        LANG: 'C.UTF-8',
        TZ: this.spec.timezone,
        CLAWPOD_IPC_DIR: at(SANDBOX_PATHS.ipc),
        CLAWPOD_WORKDIR: at(SANDBOX_PATHS.group),
      },
      workdir: SANDBOX_PATHS.group,
      uid: user.uid,
      gid: user.gid,
      limits: {
        memoryMb: limits.memoryMb,
        cpus: limits.cpus,
        pids: limits.pids,
        wallTimeMs: limits.runTimeoutMs,
      },
      network: egress.network,
      image: config.file.sandbox.image,
    });
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
      proxy: egress.proxy,
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
