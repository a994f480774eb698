/**
 * Pure argument building for the bubblewrap runtime: given a validated SandboxSpec and what was
 * probed on the host, return the exact argv (prlimit wrapper + bwrap). No I/O here.
 */
import type { SandboxLimits, SandboxSpec } from './runtime.js';

/**
 * System paths ro-bound into every bubblewrap sandbox (when present on the host), enough to
 * run node and TLS clients. Deliberately absent: /etc/shadow, /etc/passwd, /root, /home, the
 * data dir. /etc/ld.so.cache and /etc/localtime are added for the dynamic loader and time zone.
 */
export const DEFAULT_SYSTEM_PATHS: readonly string[] = [
  '/usr',
  '/lib',
  '/lib32',
  '/lib64',
  '/bin',
  '/sbin',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/resolv.conf',
  '/etc/ld.so.cache',
  '/etc/localtime',
];

/**
 * One system path as found on the host: ro-bound as is, or (when `symlinkTarget` is set)
 * recreated as a symlink - used when the link points into another bound system path, as with
 * /bin -> usr/bin on merged-/usr systems.
 */
export interface SystemPath {
  path: string;
  symlinkTarget?: string;
}

/** Optional bwrap features, detected once from `bwrap --help`. */
export interface BwrapFeatures {
  /** `--disable-userns` (bubblewrap >= 0.8): no nested user namespaces inside the sandbox. */
  disableUserns: boolean;
  /** `--size` before `--tmpfs` (bubblewrap >= 0.7): bounded /tmp. */
  tmpfsSize: boolean;
  /**
   * `--bind-fd` / `--ro-bind-fd` (bubblewrap >= 0.8): bind an open descriptor; bwrap checks that
   * what it mounted is the descriptor's folder, so a swap on the path cannot redirect the mount.
   */
  bindFd: boolean;
}

/** Host facts the builder needs. */
export interface BwrapHost {
  bwrapPath: string;
  /** util-linux prlimit; null when absent, then memory/pids/cpu-time are not limited. */
  prlimitPath: string | null;
  features: BwrapFeatures;
  systemPaths: readonly SystemPath[];
}

/**
 * The command to spawn: `file` with `args` (argv[0] excluded). `fds` are host descriptors the
 * child must get as its fds 3, 4, … (in this order): the args name them so.
 */
export interface BuiltCommand {
  file: string;
  args: string[];
  fds: number[];
}

/** The first descriptor number a passed mount descriptor gets in bwrap (after stdio). */
export const FIRST_PASSED_FD = 3;

const MiB = 1024 * 1024;

/**
 * prlimit options for the limits: RLIMIT_DATA (memoryMb; anonymous writable memory per process,
 * which unlike RLIMIT_AS does not break V8/JSC's large virtual reservations), RLIMIT_NPROC
 * (pids; counted per host uid), RLIMIT_CPU (wallTime × cpus seconds per process), no core dumps.
 */
export function prlimitArgs(limits: SandboxLimits): string[] {
  const cpuSeconds = Math.max(1, Math.ceil((limits.wallTimeMs / 1000) * limits.cpus));
  return [
    `--data=${limits.memoryMb * MiB}`,
    `--nproc=${limits.pids}`,
    `--cpu=${cpuSeconds}`,
    '--core=0',
  ];
}

function depth(p: string): number {
  return p.split('/').length;
}

/** Build the full command line for `spec` (validated beforehand). */
export function buildBwrapCommand(spec: SandboxSpec, host: BwrapHost): BuiltCommand {
  const a: string[] = ['--unshare-all', '--unshare-user'];
  if (host.features.disableUserns) a.push('--disable-userns');
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');

  a.push('--clearenv');
  for (const key of Object.keys(spec.env).sort()) a.push('--setenv', key, spec.env[key] ?? '');

  for (const sp of host.systemPaths) {
    if (sp.symlinkTarget !== undefined) a.push('--symlink', sp.symlinkTarget, sp.path);
    else a.push('--ro-bind', sp.path, sp.path);
  }

  a.push('--proc', '/proc', '--dev', '/dev');
  if (host.features.tmpfsSize) a.push('--size', String(spec.limits.memoryMb * MiB));
  a.push('--tmpfs', '/tmp');

  // Parents before children, so a nested mount is not hidden by its parent's bind.
  const mounts = [...spec.mounts].sort((x, y) => depth(x.sandboxPath) - depth(y.sandboxPath));
  const fds: number[] = [];
  for (const m of mounts) {
    if (m.fd !== undefined && host.features.bindFd) {
      a.push(m.readOnly ? '--ro-bind-fd' : '--bind-fd', String(FIRST_PASSED_FD + fds.length));
      a.push(m.sandboxPath);
      fds.push(m.fd);
    } else a.push(m.readOnly ? '--ro-bind' : '--bind', m.hostPath, m.sandboxPath);
  }

  if (spec.network.mode === 'socket') {
    a.push('--ro-bind', spec.network.hostSocketPath, spec.network.sandboxSocketPath);
  }

  a.push('--uid', String(spec.uid), '--gid', String(spec.gid));
  a.push('--chdir', spec.workdir);
  a.push('--remount-ro', '/');
  a.push('--', ...spec.command);

  if (host.prlimitPath === null) return { file: host.bwrapPath, args: a, fds };
  return {
    file: host.prlimitPath,
    args: [...prlimitArgs(spec.limits), '--', host.bwrapPath, ...a],
    fds,
  };
}
