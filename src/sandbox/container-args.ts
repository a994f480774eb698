/**
 * The one argument builder for container CLIs: podman and docker share their flags; Apple's
 * `container` CLI differs (no --read-only, --security-opt, --pids-limit or --memory-swap; mounts
 * via --mount). Pure functions, no I/O.
 */
import { SandboxSpecError } from './errors.js';
import { SANDBOX_ID_PATTERN, type SandboxSpec } from './runtime.js';

/** Which CLI dialect to emit. */
export type ContainerFlavor = 'podman' | 'docker' | 'apple';

/** Label put on every clawpod container; cleanupOrphans() removes containers carrying it. */
export const CLAWPOD_LABEL_KEY = 'clawpod';
export const CLAWPOD_LABEL = `${CLAWPOD_LABEL_KEY}=1`;

/**
 * The label naming the installation (data dir) that started a container, so orphan cleanup
 * removes only its own daemon's leftovers, never another installation's live sandboxes.
 */
export function ownerLabel(owner: string): string {
  if (!/^[a-z0-9]{1,64}$/.test(owner)) throw new Error(`invalid container owner "${owner}"`);
  return `clawpod.owner=${owner}`;
}
/** Image used when neither the spec nor the runtime context names one. */
export const DEFAULT_IMAGE = 'clawpod-agent:local';

const IMAGE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
const UNSAFE_PATH = /[\0\n:,]/;

/** Container name of a sandbox: `clawpod-<id>`; the id is validated first. */
export function containerName(id: string): string {
  if (!SANDBOX_ID_PATTERN.test(id)) {
    throw new SandboxSpecError(`Invalid sandbox id "${id}": must match [a-z0-9][a-z0-9_.-]{0,100}`);
  }
  return `clawpod-${id}`;
}

/** Validate an image reference (no leading '-', no spaces, no shell metacharacters). */
export function checkImage(image: string): string {
  if (!IMAGE_PATTERN.test(image)) {
    throw new SandboxSpecError(
      `Invalid container image "${image}"`,
      'Use a plain reference such as clawpod-agent:local or registry.example/agent:1.2',
    );
  }
  return image;
}

function checkPath(p: string, what: string): string {
  if (!p.startsWith('/') || UNSAFE_PATH.test(p)) {
    throw new SandboxSpecError(
      `Invalid ${what} "${p}": must be absolute without ':', ',', newline or NUL`,
      'Rename the folder or choose a different mount path',
    );
  }
  return p;
}

function bindArgs(
  flavor: ContainerFlavor,
  host: string,
  target: string,
  readOnly: boolean,
): string[] {
  checkPath(host, 'mount host path');
  checkPath(target, 'mount sandbox path');
  if (flavor === 'apple') {
    return ['--mount', `type=bind,source=${host},target=${target}${readOnly ? ',readonly' : ''}`];
  }
  return ['-v', `${host}:${target}${readOnly ? ':ro' : ''}`];
}

/**
 * `run …` arguments (without the binary) for `spec` in the given dialect. `defaultImage` is
 * used when the spec has no image. The spec must have passed validateSpec.
 */
export function buildContainerRunArgs(
  spec: SandboxSpec,
  flavor: ContainerFlavor,
  defaultImage: string = DEFAULT_IMAGE,
  owner?: string,
): string[] {
  const image = checkImage(spec.image ?? defaultImage);
  const { memoryMb, cpus, pids } = spec.limits;
  const a: string[] = ['run', '--rm', '-i', '--init', '--network', 'none'];
  a.push('--user', `${spec.uid}:${spec.gid}`);
  if (flavor === 'apple') {
    a.push('--tmpfs', '/tmp', '--cap-drop', 'ALL');
    a.push('--memory', `${memoryMb}M`, '--cpus', String(Math.max(1, Math.ceil(cpus))));
  } else {
    a.push('--read-only', '--tmpfs', `/tmp:rw,nosuid,nodev,size=${memoryMb}m`);
    a.push('--cap-drop', 'ALL', '--security-opt', 'no-new-privileges');
    a.push('--memory', `${memoryMb}m`, '--memory-swap', `${memoryMb}m`);
    a.push('--cpus', String(cpus), '--pids-limit', String(pids));
  }
  a.push('--label', CLAWPOD_LABEL, '--name', containerName(spec.id));
  if (owner) a.push('--label', ownerLabel(owner));
  // podman otherwise adds PATH, TERM and container= to the declared environment.
  if (flavor === 'podman') a.push('--unsetenv-all');
  for (const key of Object.keys(spec.env).sort()) a.push('-e', `${key}=${spec.env[key] ?? ''}`);
  for (const m of spec.mounts) a.push(...bindArgs(flavor, m.hostPath, m.sandboxPath, m.readOnly));
  if (spec.network.mode === 'socket') {
    const { hostSocketPath, sandboxSocketPath } = spec.network;
    a.push(...bindArgs(flavor, hostSocketPath, sandboxSocketPath, false));
  }
  a.push('-w', checkPath(spec.workdir, 'workdir'));
  a.push(image, ...spec.command);
  return a;
}
