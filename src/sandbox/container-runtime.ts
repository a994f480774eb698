/**
 * Shared Runtime for container CLIs (podman, docker, Apple `container`). Each engine file
 * supplies its dialect and an availability probe; spawning, killing and orphan cleanup are here.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import {
  buildContainerRunArgs,
  CLAWPOD_LABEL,
  ownerLabel,
  containerName,
  type ContainerFlavor,
} from './container-args.js';
import { RuntimeUnavailableError } from './errors.js';
import { findExecutable, runProbe } from './exec-util.js';
import { wrapChild } from './process-handle.js';
import {
  validateSpec,
  type Runtime,
  type RuntimeAvailability,
  type SandboxHandle,
  type SandboxSpec,
} from './runtime.js';

/** What an engine file provides to the shared container runtime. */
export interface ContainerEngine {
  /** Runtime name (`podman`, `docker`, `apple`). */
  name: string;
  flavor: ContainerFlavor;
  /** Default binary name looked up on the search path. */
  binary: string;
  /** How to install it, appended to "not found" reasons. */
  installHint: string;
  /**
   * Check the engine works and the image exists; `bin` is the resolved binary. Never throws.
   * Called by available() after the binary was found.
   */
  probe(bin: string, image: string, env: Record<string, string>): Promise<RuntimeAvailability>;
  /** Ids of containers carrying `label` (running or not). */
  listOrphans(bin: string, env: Record<string, string>, label: string): Promise<string[]>;
}

/** Options of a container runtime instance. */
export interface ContainerRuntimeOptions {
  /** PATH used to find the binary. */
  searchPath: string;
  /** Explicit binary path (default: engine.binary on searchPath). */
  binaryPath?: string;
  /** Image when a spec has none. */
  image: string;
  /**
   * Environment of the CLI process itself (e.g. HOME, DOCKER_HOST, XDG_RUNTIME_DIR). Never
   * forwarded into the container: the container gets exactly the spec's env.
   */
  cliEnv?: Record<string, string>;
  logger?: Logger;
  /** Installation id put on every container (see ownerLabel); scopes orphan cleanup. */
  owner?: string;
}

/** Variables a container CLI may need from the daemon's environment (not the container's). */
export const CLI_ENV_KEYS = [
  'PATH',
  'HOME',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_CONFIG',
  'CONTAINER_HOST',
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
];

/** Pick CLI_ENV_KEYS out of an environment (the factory passes process.env). */
export function pickCliEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CLI_ENV_KEYS) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Grace period between `<cli> kill` and SIGKILL of the CLI client. */
const CLIENT_KILL_GRACE_MS = 5000;

/** A Runtime driving a container CLI. */
export class ContainerRuntime implements Runtime {
  readonly name: string;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly opts: ContainerRuntimeOptions,
  ) {
    this.name = engine.name;
  }

  private bin(): string | null {
    return this.opts.binaryPath ?? findExecutable(this.engine.binary, this.opts.searchPath);
  }

  private env(): Record<string, string> {
    return this.opts.cliEnv ?? {};
  }

  async available(): Promise<RuntimeAvailability> {
    const bin = this.bin();
    if (!bin) {
      return {
        ok: false,
        reason: `${this.engine.binary} not found on PATH. ${this.engine.installHint}`,
        enforced: [],
      };
    }
    return this.engine.probe(bin, this.opts.image, this.env());
  }

  spawn(spec: SandboxSpec): SandboxHandle {
    validateSpec(spec);
    const bin = this.bin();
    if (!bin) {
      throw new RuntimeUnavailableError(
        `${this.engine.binary} not found on PATH`,
        this.engine.installHint,
      );
    }
    const name = containerName(spec.id);
    const args = buildContainerRunArgs(spec, this.engine.flavor, this.opts.image, this.opts.owner);
    this.opts.logger?.debug({ sandbox: spec.id, runtime: this.name }, 'starting container sandbox');
    const env = this.env();
    const child = spawn(bin, args, { stdio: 'pipe', env, cwd: '/' });
    const removeContainer = (): void => {
      const rm = this.engine.flavor === 'apple' ? ['delete', '--force', name] : ['rm', '-f', name];
      void runProbe(bin, rm, { timeoutMs: 30_000, env });
    };
    let killed = false;
    const handle = wrapChild(child, {
      wallTimeMs: spec.limits.wallTimeMs,
      // Killing the CLI client does not stop the container: ask the engine, then the client.
      killAction: () => {
        killed = true;
        void runProbe(bin, ['kill', name], { timeoutMs: 30_000, env });
        setTimeout(() => child.kill('SIGKILL'), CLIENT_KILL_GRACE_MS).unref();
      },
      // Inside a container nothing but the kernel's OOM killer SIGKILLs the init unasked.
      classify: (code) => (code === 137 && this.engine.flavor !== 'apple' ? 'oom' : undefined),
    });
    // A container may have been created after an early `kill`; make sure it is gone.
    void handle.exited.then(() => {
      if (killed) removeContainer();
    });
    return handle;
  }

  /**
   * Remove containers left by this installation's previous daemon (its owner label; without an
   * owner, every clawpod=1 container). Call at daemon start only.
   */
  async cleanupOrphans(): Promise<number> {
    const bin = this.bin();
    if (!bin) return 0;
    const label = this.opts.owner ? ownerLabel(this.opts.owner) : CLAWPOD_LABEL;
    const ids = await this.engine.listOrphans(bin, this.env(), label);
    if (ids.length === 0) return 0;
    const rm = this.engine.flavor === 'apple' ? ['delete', '--force'] : ['rm', '-f'];
    const r = await runProbe(bin, [...rm, ...ids], { timeoutMs: 60_000, env: this.env() });
    if (r.code !== 0) {
      this.opts.logger?.warn(
        { runtime: this.name, stderr: r.stderr.trim() },
        'orphan cleanup failed',
      );
    } else {
      this.opts.logger?.info({ runtime: this.name, count: ids.length }, 'removed orphan sandboxes');
    }
    return r.code === 0 ? ids.length : 0;
  }
}

/** listOrphans for podman and docker: `ps -a -q --filter label=<label>`. */
export async function listLabelledContainers(
  bin: string,
  env: Record<string, string>,
  label: string,
): Promise<string[]> {
  const r = await runProbe(bin, ['ps', '-a', '-q', '--filter', `label=${label}`], {
    timeoutMs: 30_000,
    env,
  });
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean);
}
