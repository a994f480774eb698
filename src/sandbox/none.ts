/**
 * The `none` runtime: a plain child process, for development only. It is never chosen by
 * `auto`, and it logs a warning on every spawn. The environment is still exactly the spec's,
 * the workdir is mapped to the host through the mounts, and a root daemon still drops to the
 * spec's uid/gid; but the process sees the whole host file system and network, and only wall
 * time is limited.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { SANDBOX_UMASK, spawnWithUmask, wrapChild } from './process-handle.js';
import type { RuntimeFactory } from './registry.js';
import {
  validateSpec,
  type Mount,
  type Protection,
  type Runtime,
  type RuntimeAvailability,
  type SandboxHandle,
  type SandboxSpec,
} from './runtime.js';

/** Options of the none runtime. */
export interface NoneRuntimeOptions {
  /** Receives the warning logged on every spawn. */
  logger: Logger;
}

/**
 * Map a sandbox path to the host through the mount whose sandboxPath is its longest prefix;
 * unchanged when no mount covers it.
 */
export function mapToHost(sandboxPath: string, mounts: readonly Mount[]): string {
  let best: Mount | undefined;
  for (const m of mounts) {
    const covers = sandboxPath === m.sandboxPath || sandboxPath.startsWith(`${m.sandboxPath}/`);
    if (covers && (!best || m.sandboxPath.length > best.sandboxPath.length)) best = m;
  }
  return best ? best.hostPath + sandboxPath.slice(best.sandboxPath.length) : sandboxPath;
}

/** The unsandboxed runtime. */
export class NoneRuntime implements Runtime {
  readonly name = 'none';

  constructor(private readonly opts: NoneRuntimeOptions) {}

  async available(): Promise<RuntimeAvailability> {
    const enforced: Protection[] = ['wall-time'];
    if (process.getuid?.() === 0) enforced.push('non-root');
    return {
      ok: true,
      reason:
        'NO SANDBOX: agents run as plain processes that see the host file system and network (development only)',
      enforced,
    };
  }

  spawn(spec: SandboxSpec): SandboxHandle {
    validateSpec(spec);
    const cwd = mapToHost(spec.workdir, spec.mounts);
    this.opts.logger.warn(
      { sandbox: spec.id, cwd },
      'runtime "none": running the agent WITHOUT a sandbox (host file system and network are reachable); use bubblewrap or podman outside development',
    );
    const root = process.getuid?.() === 0;
    const child = spawnWithUmask(SANDBOX_UMASK, () =>
      spawn(spec.command[0] as string, spec.command.slice(1), {
        stdio: 'pipe',
        env: { ...spec.env },
        cwd,
        ...(root ? { uid: spec.uid, gid: spec.gid } : {}),
      }),
    );
    return wrapChild(child, { wallTimeMs: spec.limits.wallTimeMs });
  }
}

/** The none runtime, listed in `builtinRuntimes` (index.ts). */
export const noneRuntime: RuntimeFactory = {
  name: 'none',
  description: 'no sandbox at all (development only; never chosen by auto)',
  create: (ctx) => new NoneRuntime({ logger: ctx.logger }),
};
