import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { optionsFor } from '../groups/harness-options.js';
import type { HarnessSpec } from '../protocol/harness-spec.js';
import type { Group } from '../store/group-schema.js';
import { builtinRuntimes } from '../sandbox/index.js';
import {
  createRuntimes,
  selectRuntime,
  type RuntimeFactory,
  type RuntimeSelection,
} from '../sandbox/registry.js';
import type { Runtime } from '../sandbox/runtime.js';
import type { AgentLauncher, AgentProcess, LaunchProblem, SessionSpec } from './agent-process.js';
import { agentBundleDir, launchSandbox, type LaunchDeps } from './sandbox-launch.js';
import { SandboxProcess } from './sandbox-process.js';

export interface SandboxLauncherOptions extends LaunchDeps {
  log: Logger;
  /**
   * Harnesses served, each with its own AgentLauncher entry: their credential checks (against
   * `config.env`), option schemas and the packages their sandboxes mount.
   */
  // Each spec has its own options type; they are used side by side here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  harnesses: readonly HarnessSpec<any>[];
  /** The runtimes to choose from; default `builtinRuntimes`. */
  runtimes?: readonly RuntimeFactory[];
}

type Probe = { ok: true; selection: RuntimeSelection } | { ok: false; message: string };

/**
 * Starts agent processes inside sandboxes: probes the runtimes once, builds the mounts by the
 * mount policy, spawns the in-sandbox runner (the bundle `/opt/clawpod/agent/runner.cjs`) with
 * the group's runtime and the harness's packages, and runs task pre-check scripts.
 */
export class SandboxLauncher {
  private runtimes = new Map<string, Runtime>();
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly opts: SandboxLauncherOptions) {}

  /** Creates the runtimes and probes the configured one (groups' overrides on first use). */
  async init(): Promise<void> {
    const { config, log } = this.opts;
    this.runtimes = createRuntimes(
      {
        logger: log.child({ part: 'sandbox' }),
        image: config.file.sandbox.image,
        owner: createHash('sha256').update(config.paths.home).digest('hex').slice(0, 16),
      },
      this.opts.runtimes ?? builtinRuntimes,
    );
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

  launchers(): AgentLauncher[] {
    return this.opts.harnesses.map((harness) => ({
      harness: harness.name,
      prepare: (group) => this.probe(this.runtimeName(group)),
      problem: (group) => this.problem(harness, group),
      start: (spec) => this.start(spec, harness.packages(process.platform, process.arch)),
    }));
  }

  private runtimeName(group: Group): string {
    return group.runtime ?? this.opts.config.file.runtime;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private problem(harness: HarnessSpec<any>, group: Group): LaunchProblem | undefined {
    const probe = this.probes.get(this.runtimeName(group));
    if (!probe)
      return {
        message: `Sandbox runtime "${this.runtimeName(group)}" was not probed; restart the daemon.`,
      };
    if (!probe.ok) return { message: `${probe.message}. Run \`clawpod doctor\` for the fix.` };
    const bundle = join(agentBundleDir(this.opts.packageRoot), 'runner.cjs');
    if (!existsSync(bundle))
      return {
        message: `The agent runner is not built (${bundle} is missing): run \`npm run build\` in the clawpod folder, then restart clawpod.`,
      };
    if (harness.name === 'command' && !group.command) {
      return {
        message: `Group "${group.folder}" uses the command harness but has no command: clawpod groups set ${group.folder} command="<shell command>"`,
      };
    }
    const options = harness.optionsSchema.safeParse(optionsFor(group, harness.name));
    if (!options.success) {
      const issue = options.error.issues[0];
      return {
        message: `Group "${group.folder}" has invalid ${harness.name} options (${['harnessOptions', harness.name, ...(issue?.path.map(String) ?? [])].join('.')}: ${issue?.message}): fix them with clawpod groups set ${group.folder} ${harness.name}.<option>=…`,
      };
    }
    const missing = harness.credentialProblem(this.opts.config.env, options.data);
    return missing ? { message: missing } : undefined;
  }

  private start(spec: SessionSpec, packages: readonly string[]): AgentProcess {
    const probe = this.probes.get(this.runtimeName(spec.group));
    if (!probe?.ok) throw new Error('sandbox runtime unavailable');
    return new SandboxProcess(spec, probe.selection.runtime, this.opts, packages);
  }

  /**
   * Runs a task's pre-check script in the group's sandbox (`/bin/sh -c`, no model, no network
   * unless the group has egress hosts). A last stdout line `{"wake": false}` means "nothing to
   * do": the task run is recorded as skipped. A non-zero exit is a failure (retried).
   */
  async runPreCheck(script: string, group: Group): Promise<{ wake: boolean; detail?: string }> {
    const name = this.runtimeName(group);
    await this.probe(name);
    const probe = this.probes.get(name);
    if (!probe?.ok)
      throw new Error(`no sandbox runtime for the pre-check: ${probe?.message ?? name}`);
    const log = this.opts.log.child({ group: group.folder, part: 'pre-check' });
    const launched = await launchSandbox(
      this.opts,
      probe.selection.runtime,
      {
        group,
        harness: 'command',
        packages: [],
        label: `precheck-${randomBytes(4).toString('hex')}`,
        timezone: this.opts.config.timezone,
        wallTimeMs: group.limits.runTimeoutMs ?? this.opts.config.file.limits.runTimeoutMs,
        command: ['/bin/sh', '-c', script],
      },
      log,
    );
    let out = '';
    let err = '';
    launched.handle.stdin.end();
    launched.handle.stdout.on(
      'data',
      (b: Buffer) => (out = (out + b.toString('utf8')).slice(-65_536)),
    );
    launched.handle.stderr.on(
      'data',
      (b: Buffer) => (err = (err + b.toString('utf8')).slice(-2000)),
    );
    const exit = await launched.handle.exited;
    await launched.closeEgress();
    if (exit.code !== 0) {
      throw new Error(
        `the pre-check script failed (${exit.reason ?? `exit ${exit.code}`})${err ? `: ${err.trim()}` : ''}`,
      );
    }
    const last = out.trim().split('\n').pop() ?? '';
    try {
      const verdict = JSON.parse(last) as { wake?: unknown };
      if (verdict && verdict.wake === false) return { wake: false, detail: last.slice(0, 500) };
    } catch {
      // Not JSON: any other output wakes the agent.
    }
    return { wake: true };
  }
}
