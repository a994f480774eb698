/**
 * The sandbox layer: the Runtime contract, the registry, the mount policy, the host-side safe
 * file helpers, and the explicit list of the runtimes clawpod ships with.
 */
import { appleRuntime } from './apple.js';
import { bubblewrapRuntime } from './bubblewrap.js';
import { dockerRuntime } from './docker.js';
import { noneRuntime } from './none.js';
import { podmanRuntime } from './podman.js';
import type { RuntimeFactory } from './registry.js';

/** The runtimes clawpod ships with (DaemonOptions.runtimes replaces the list). */
export const builtinRuntimes: readonly RuntimeFactory[] = [
  bubblewrapRuntime,
  podmanRuntime,
  dockerRuntime,
  appleRuntime,
  noneRuntime,
];

export * from './errors.js';
export * from './runtime.js';
export * from './registry.js';
export { BUILTIN_BLOCKED_PATTERNS } from './blocked-names.js';
export {
  allowlistSchema,
  defaultAllowlistPath,
  loadAllowlist,
  parseAllowlist,
  type Allowlist,
} from './allowlist.js';
export {
  buildGroupMounts,
  extraMountTarget,
  SANDBOX_PATHS,
  type ExtraMountRequest,
  type GroupMountRequest,
  type GroupMounts,
  type MountPolicyConfig,
} from './mount-policy.js';
export {
  safeMkdirp,
  safeReadDir,
  safeReadFile,
  safeRename,
  safeUnlink,
  safeWriteFile,
  type SafeDirEntry,
} from './safe-fs.js';
export { BubblewrapRuntime, nodeDirIfOutsideSystem, type BubblewrapOptions } from './bubblewrap.js';
export { ContainerRuntime, type ContainerRuntimeOptions } from './container-runtime.js';
export {
  CLAWPOD_LABEL,
  DEFAULT_IMAGE,
  buildContainerRunArgs,
  containerName,
} from './container-args.js';
export { NoneRuntime, type NoneRuntimeOptions } from './none.js';
