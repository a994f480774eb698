/**
 * The Runtime contract: what every sandbox runtime (bubblewrap, podman, docker, apple, none)
 * implements, and the validation of the SandboxSpec it receives.
 */
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { SandboxSpecError } from './errors.js';

/** Sandbox ids: lower-case, start with a letter or digit, at most 101 characters. */
export const SANDBOX_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,100}$/;
/** Environment variable names accepted in a spec. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One bind mount. `hostPath` must be absolute and should already be resolved (the mount policy
 * does this); `sandboxPath` is absolute and normalised inside the sandbox. Neither may contain
 * `:`, a comma, a newline or NUL (they would be ambiguous in container CLI syntax).
 */
export interface Mount {
  hostPath: string;
  sandboxPath: string;
  readOnly: boolean;
  /**
   * An open descriptor of `hostPath` (reached without following a symlink), held by the caller
   * until spawn() returns. A runtime that can bind a descriptor (bubblewrap's --bind-fd) mounts
   * it, so the sandbox gets exactly the folder that was checked; the others mount `hostPath`.
   */
  fd?: number;
}

/**
 * Resource limits. Each runtime reports in `available().enforced` which ones it really enforces;
 * `wallTimeMs` is always enforced by the host (the sandbox is killed at the limit).
 */
export interface SandboxLimits {
  memoryMb: number;
  cpus: number;
  pids: number;
  wallTimeMs: number;
}

/**
 * Network of a sandbox. `none`: loopback only. `socket`: still no network, but one host unix
 * socket (e.g. the credential/egress proxy) is bind-mounted at `sandboxSocketPath`.
 */
export type SandboxNetwork =
  { mode: 'none' } | { mode: 'socket'; hostSocketPath: string; sandboxSocketPath: string };

/**
 * Everything a runtime needs to start one sandboxed process. Nothing is inherited from the
 * daemon: the environment is exactly `env`, the file system view is the runtime's minimal
 * system (or the image) plus exactly `mounts`. `uid`/`gid` must be non-zero.
 */
export interface SandboxSpec {
  /** Validated against SANDBOX_ID_PATTERN; names the container (`clawpod-<id>`). */
  id: string;
  /** argv inside the sandbox; argv[0] is resolved with the sandbox's PATH (from `env`). */
  command: string[];
  mounts: Mount[];
  /** The complete environment of the sandboxed process. */
  env: Record<string, string>;
  /** Absolute path inside the sandbox. */
  workdir: string;
  uid: number;
  gid: number;
  limits: SandboxLimits;
  network: SandboxNetwork;
  /** Container image for container runtimes; ignored by bubblewrap and none. */
  image?: string;
}

/** Why a sandbox ended, when the host caused it (or could tell). */
export type ExitReason = 'wall-time' | 'killed' | 'oom';

/**
 * How the sandboxed process ended. `reason` is set when the host killed it (wall time or
 * kill()) or the runtime could tell it was out of memory. `error` is set when the runtime
 * process itself could not be started (then code and signal are null).
 */
export interface SandboxExit {
  code: number | null;
  signal: string | null;
  reason?: ExitReason;
  error?: string;
}

/**
 * A running sandbox. The caller must consume `stdout` and `stderr` (or the process may block on
 * a full pipe). `exited` never rejects. `kill()` is idempotent and kills the whole sandbox.
 */
export interface SandboxHandle {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exited: Promise<SandboxExit>;
  kill(): void;
}

/**
 * Stable names of the protections a runtime can enforce, reported by `available().enforced`:
 * - `wall-time` the host kills the sandbox at `limits.wallTimeMs`
 * - `memory` / `cpus` / `pids` the matching limit (how: see `reason`)
 * - `cpu-time` total CPU seconds per process are capped (wallTime × cpus)
 * - `network-none` no network except loopback (and the declared socket)
 * - `non-root` the process runs as the spec's uid/gid on the host, not root
 * - `mount-isolation` only the declared mounts (plus system dirs/image) are visible
 * - `no-new-privileges` setuid binaries cannot raise privileges
 * - `read-only-root` the root file system is read-only (only /tmp and rw mounts are writable)
 */
export type Protection =
  | 'wall-time'
  | 'memory'
  | 'cpus'
  | 'pids'
  | 'cpu-time'
  | 'network-none'
  | 'non-root'
  | 'mount-isolation'
  | 'no-new-privileges'
  | 'read-only-root';

/**
 * Result of `Runtime.available()`. `ok` false means spawn() will not work here; `reason` then
 * says why and what to do. When ok, `reason` describes the runtime (version, mechanisms).
 */
export interface RuntimeAvailability {
  ok: boolean;
  reason: string;
  enforced: Protection[];
}

/**
 * A sandbox runtime. `available()` never throws and never has side effects beyond probing.
 * `spawn()` validates the spec (throwing SandboxSpecError / MountUnreachableError synchronously)
 * and starts the process; failures after that surface through `exited`.
 */
export interface Runtime {
  readonly name: string;
  available(): Promise<RuntimeAvailability>;
  spawn(spec: SandboxSpec): SandboxHandle;
  /** Container runtimes: remove containers left by a previous daemon (label clawpod=1). */
  cleanupOrphans?(): Promise<number>;
}

const safeText = (what: string) =>
  z.string().refine((s) => !s.includes('\0'), { message: `${what} must not contain NUL` });

const pathText = (what: string) =>
  z
    .string()
    .min(1)
    .refine((s) => s.startsWith('/'), { message: `${what} must be absolute` })
    .refine((s) => !/[\0\n:,]/.test(s), {
      message: `${what} must not contain ':', ',', a newline or NUL`,
    });

const sandboxPathText = (what: string) =>
  pathText(what).refine((s) => posix.normalize(s) === s && !s.split('/').includes('..'), {
    message: `${what} must be normalised (no '..', no '//', no trailing '/')`,
  });

/** Sandbox paths a mount may not cover: the runtime's own system view. */
const RESERVED_SANDBOX_PATHS = [
  '/proc',
  '/dev',
  '/sys',
  '/usr',
  '/etc',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
];

const mountSchema = z.object({
  hostPath: pathText('mount hostPath'),
  sandboxPath: sandboxPathText('mount sandboxPath').refine(
    (s) => s !== '/' && !RESERVED_SANDBOX_PATHS.some((r) => s === r || s.startsWith(`${r}/`)),
    { message: `mount sandboxPath must not be / or inside ${RESERVED_SANDBOX_PATHS.join(', ')}` },
  ),
  readOnly: z.boolean(),
  fd: z.number().int().min(0).optional(),
});

/** zod schema of SandboxSpec (used by validateSpec). */
export const sandboxSpecSchema = z.object({
  id: z.string().regex(SANDBOX_ID_PATTERN, 'id must match [a-z0-9][a-z0-9_.-]{0,100}'),
  command: z.array(safeText('command argument')).min(1, 'command must not be empty'),
  mounts: z.array(mountSchema),
  env: z.record(z.string(), safeText('env value')).superRefine((env, ctx) => {
    for (const key of Object.keys(env)) {
      if (!ENV_NAME_PATTERN.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'env names must match [A-Za-z_][A-Za-z0-9_]*',
        });
      }
    }
  }),
  workdir: sandboxPathText('workdir'),
  uid: z.number().int().min(1, 'uid must be non-zero: sandboxes never run as root'),
  gid: z.number().int().min(1, 'gid must be non-zero: sandboxes never run as group root'),
  limits: z.object({
    memoryMb: z.number().int().min(32, 'memoryMb must be at least 32'),
    cpus: z.number().positive(),
    pids: z.number().int().min(8, 'pids must be at least 8'),
    wallTimeMs: z.number().int().positive(),
  }),
  network: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('none') }),
    z.object({
      mode: z.literal('socket'),
      hostSocketPath: pathText('hostSocketPath'),
      sandboxSocketPath: sandboxPathText('sandboxSocketPath'),
    }),
  ]),
  image: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'image must be a plain image reference')
    .optional(),
});

/**
 * Validate a spec; throws SandboxSpecError naming every offending key. Also refuses two mounts
 * on the same sandbox path.
 */
export function validateSpec(spec: SandboxSpec): SandboxSpec {
  const parsed = sandboxSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.map(String).join('.') || '(spec)'}: ${i.message}`)
      .join('; ');
    throw new SandboxSpecError(`Invalid sandbox spec${idOf(spec)}: ${detail}`);
  }
  const seen = new Set<string>();
  for (const m of spec.mounts) {
    if (seen.has(m.sandboxPath)) {
      throw new SandboxSpecError(
        `Invalid sandbox spec${idOf(spec)}: two mounts on ${m.sandboxPath}`,
      );
    }
    seen.add(m.sandboxPath);
  }
  return spec;
}

function idOf(spec: unknown): string {
  const id = (spec as { id?: unknown } | null)?.id;
  return typeof id === 'string' && SANDBOX_ID_PATTERN.test(id) ? ` "${id}"` : '';
}
