/**
 * The bubblewrap runtime (default on Linux): no daemon, tens of ms to start. Every namespace is
 * unshared (user, mount, pid, net, ipc, uts, cgroup), nested user namespaces are disabled where
 * bwrap supports it, the root is a read-only tmpfs with only system dirs and the declared mounts,
 * and prlimit caps memory/pids/cpu-time. When the daemon runs as root, bwrap itself is started
 * as the spec's uid/gid so the sandboxed process is that uid on the host too (a user namespace
 * created by root would map the sandbox user to host root).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import {
  buildBwrapCommand,
  DEFAULT_SYSTEM_PATHS,
  type BwrapFeatures,
  type BwrapHost,
  type SystemPath,
} from './bubblewrap-args.js';
import { RuntimeUnavailableError } from './errors.js';
import { findExecutable, runProbe, runProbeSync } from './exec-util.js';
import { assertMountsReachable } from './host-access.js';
import { SANDBOX_UMASK, spawnWithUmask, wrapChild } from './process-handle.js';
import type { RuntimeFactory } from './registry.js';
import {
  validateSpec,
  type Protection,
  type Runtime,
  type RuntimeAvailability,
  type SandboxHandle,
  type SandboxSpec,
} from './runtime.js';

/** Options of the bubblewrap runtime. */
export interface BubblewrapOptions {
  /** PATH searched for `bwrap` and `prlimit`. */
  searchPath: string;
  /** Explicit bwrap binary (default: found on searchPath). */
  bwrapPath?: string;
  /** Explicit prlimit binary; null disables rlimits (default: found on searchPath). */
  prlimitPath?: string | null;
  /** System paths ro-bound into every sandbox (default DEFAULT_SYSTEM_PATHS). */
  systemPaths?: readonly string[];
  /** More host paths ro-bound at the same place, e.g. the real dir of a node outside /usr. */
  extraSystemPaths?: readonly string[];
  /** Who runs the availability probe when the daemon is root (default nobody, 65534:65534). */
  probeUser?: { uid: number; gid: number };
  logger?: Logger;
}

const INSTALL_HINT =
  'Install it: apt-get install -y bubblewrap (Debian/Ubuntu) or dnf install bubblewrap';

/**
 * Inspect `paths` on the host: skip missing ones, ro-bind directories and files, and recreate a
 * symlink when it points inside another listed path that is a real directory.
 */
export function probeSystemPaths(paths: readonly string[]): SystemPath[] {
  const realDirs = paths.filter((p) => {
    try {
      return lstatSync(p).isDirectory();
    } catch {
      return false;
    }
  });
  const out: SystemPath[] = [];
  for (const p of paths) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (!st.isSymbolicLink()) {
      out.push({ path: p });
      continue;
    }
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      continue; // dangling link
    }
    const inside = realDirs.some((d) => real === d || real.startsWith(`${d}/`));
    if (inside) out.push({ path: p, symlinkTarget: readlinkSync(p) });
    else out.push({ path: p }); // bwrap binds the link's target at p
  }
  return out;
}

/** Parse `bwrap --help` output for the optional features we use. */
export function parseBwrapFeatures(help: string): BwrapFeatures {
  return {
    disableUserns: help.includes('--disable-userns'),
    tmpfsSize: /^\s*--size\b/m.test(help),
    bindFd: /^\s*--ro-bind-fd\b/m.test(help),
  };
}

/** The bubblewrap Runtime. Host probing (binaries, features, system paths) happens once. */
export class BubblewrapRuntime implements Runtime {
  readonly name = 'bubblewrap';
  private host: BwrapHost | null = null;

  constructor(private readonly opts: BubblewrapOptions) {}

  private bwrapPath(): string | null {
    return this.opts.bwrapPath ?? findExecutable('bwrap', this.opts.searchPath);
  }

  /** Probe the host once (synchronously: a few ms, on the first spawn or available()). */
  private hostInfo(): BwrapHost {
    if (this.host) return this.host;
    const bwrapPath = this.bwrapPath();
    if (!bwrapPath) {
      throw new RuntimeUnavailableError('bwrap is not installed (not found on PATH)', INSTALL_HINT);
    }
    const help = runProbeSync(bwrapPath, ['--help'], 5000);
    const prlimitPath =
      this.opts.prlimitPath === undefined
        ? findExecutable('prlimit', this.opts.searchPath)
        : this.opts.prlimitPath;
    const paths = [
      ...(this.opts.systemPaths ?? DEFAULT_SYSTEM_PATHS),
      ...(this.opts.extraSystemPaths ?? []),
    ];
    this.host = {
      bwrapPath,
      prlimitPath,
      features: parseBwrapFeatures(help.stdout + help.stderr),
      systemPaths: probeSystemPaths([...new Set(paths)]),
    };
    return this.host;
  }

  async available(): Promise<RuntimeAvailability> {
    let host: BwrapHost;
    try {
      host = this.hostInfo();
    } catch (e) {
      return { ok: false, reason: (e as Error).message, enforced: [] };
    }
    const version = await runProbe(host.bwrapPath, ['--version'], { timeoutMs: 5000 });
    const root = process.getuid?.() === 0;
    const probe = this.opts.probeUser ?? { uid: 65534, gid: 65534 };
    const uid = root ? probe.uid : (process.getuid?.() ?? probe.uid);
    const gid = root ? probe.gid : (process.getgid?.() ?? probe.gid);
    const cmd = buildBwrapCommand(
      {
        id: 'probe',
        command: ['true'],
        mounts: [],
        env: { PATH: '/usr/bin:/bin' },
        workdir: '/',
        uid: Math.max(uid, 1),
        gid: Math.max(gid, 1),
        limits: { memoryMb: 64, cpus: 1, pids: 64, wallTimeMs: 5000 },
        network: { mode: 'none' },
      },
      host,
    );
    const run = await runProbe(cmd.file, cmd.args, {
      timeoutMs: 10_000,
      ...(root ? { uid: probe.uid, gid: probe.gid } : {}),
    });
    if (run.code !== 0) {
      const detail = (run.error ?? run.stderr.trim()) || `exit code ${run.code}`;
      return {
        ok: false,
        reason: `bwrap cannot create a sandbox here: ${detail}. Unprivileged user namespaces may be disabled: check sysctl kernel.unprivileged_userns_clone=1 and, on Ubuntu, kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile for bwrap)`,
        enforced: [],
      };
    }
    const enforced: Protection[] = [
      'wall-time',
      'network-none',
      'non-root',
      'mount-isolation',
      'no-new-privileges',
      'read-only-root',
    ];
    const parts = [`${version.stdout.trim() || 'bubblewrap'}`];
    parts.push(
      host.features.disableUserns
        ? 'nested user namespaces disabled'
        : 'nested user namespaces NOT disabled (bwrap < 0.8)',
    );
    if (host.prlimitPath) {
      enforced.push('memory', 'pids', 'cpu-time');
      parts.push(
        'memory = RLIMIT_DATA per process, pids = RLIMIT_NPROC per host uid, cpu-time = RLIMIT_CPU (prlimit)',
      );
    } else {
      parts.push('prlimit not found: memory, pids and cpu time NOT limited (install util-linux)');
    }
    parts.push('cpus not enforced (needs cgroups)');
    return { ok: true, reason: parts.join('; '), enforced };
  }

  spawn(spec: SandboxSpec): SandboxHandle {
    validateSpec(spec);
    const host = this.hostInfo();
    const root = process.getuid?.() === 0;
    if (root) {
      assertMountsReachable(spec.mounts, spec.uid, spec.gid);
      if (spec.network.mode === 'socket') {
        const { hostSocketPath, sandboxSocketPath } = spec.network;
        assertMountsReachable(
          [{ hostPath: hostSocketPath, sandboxPath: sandboxSocketPath, readOnly: false }],
          spec.uid,
          spec.gid,
        );
      }
    }
    const { file, args, fds } = buildBwrapCommand(spec, host);
    this.opts.logger?.debug({ sandbox: spec.id, file }, 'starting bubblewrap sandbox');
    const child = spawnWithUmask(SANDBOX_UMASK, () =>
      spawn(file, args, {
        // Mount descriptors become the child's fds 3, 4, … (buildBwrapCommand names them so).
        stdio: ['pipe', 'pipe', 'pipe', ...fds],
        env: {},
        cwd: '/',
        ...(root ? { uid: spec.uid, gid: spec.gid } : {}),
      }),
    );
    // stdio 0-2 are pipes whatever follows them.
    return wrapChild(child as ChildProcessWithoutNullStreams, {
      wallTimeMs: spec.limits.wallTimeMs,
    });
  }
}

/** Resolve the directory holding `execPath` when it is outside the default system paths. */
export function nodeDirIfOutsideSystem(execPath: string): string | null {
  const real = realpathSync(execPath);
  const dir = dirname(resolve(real));
  const inSystem = DEFAULT_SYSTEM_PATHS.some((p) => dir === p || dir.startsWith(`${p}/`));
  return inSystem ? null : dir;
}

/** The bubblewrap runtime, listed in `builtinRuntimes` (index.ts). */
export const bubblewrapRuntime: RuntimeFactory = {
  name: 'bubblewrap',
  description: 'bubblewrap namespaces + prlimit (Linux default; no daemon)',
  create: (ctx) => {
    const nodeDir = nodeDirIfOutsideSystem(process.execPath);
    return new BubblewrapRuntime({
      searchPath: ctx.searchPath ?? process.env.PATH ?? '/usr/bin:/bin',
      extraSystemPaths: ctx.systemPaths ?? (nodeDir ? [nodeDir] : []),
      logger: ctx.logger,
    });
  },
};
