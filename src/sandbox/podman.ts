/**
 * The podman runtime: rootful or rootless podman driving runc/crun. Limits are enforced by
 * cgroups when the corresponding controllers are available (reported by `podman info`).
 */
import { DEFAULT_IMAGE } from './container-args.js';
import {
  ContainerRuntime,
  listLabelledContainers,
  pickCliEnv,
  type ContainerEngine,
} from './container-runtime.js';
import { runProbe } from './exec-util.js';
import type { RuntimeFactory } from './registry.js';
import type { Protection, RuntimeAvailability } from './runtime.js';

const BASE: Protection[] = [
  'wall-time',
  'network-none',
  'non-root',
  'mount-isolation',
  'no-new-privileges',
  'read-only-root',
];

interface PodmanInfo {
  host?: {
    cgroupVersion?: string;
    cgroupManager?: string;
    cgroupControllers?: string[];
    ociRuntime?: { name?: string };
    security?: { rootless?: boolean };
  };
  version?: { Version?: string };
}

/** Which limits podman can enforce given its cgroup controllers. */
export function podmanEnforced(controllers: readonly string[]): Protection[] {
  const out = [...BASE];
  if (controllers.includes('memory')) out.push('memory');
  if (controllers.includes('cpu')) out.push('cpus');
  if (controllers.includes('pids')) out.push('pids');
  return out;
}

/** The podman engine description used by ContainerRuntime. */
export const podmanEngine: ContainerEngine = {
  name: 'podman',
  flavor: 'podman',
  binary: 'podman',
  installHint:
    'Install it: apt-get install -y --no-install-recommends podman runc catatonit, then build the image (src/sandbox/build-local-image.sh)',
  async probe(bin, image, env): Promise<RuntimeAvailability> {
    const info = await runProbe(bin, ['info', '--format', 'json'], { timeoutMs: 30_000, env });
    if (info.code !== 0) {
      const detail = (info.error ?? info.stderr.trim().split('\n').pop()) || `exit ${info.code}`;
      return {
        ok: false,
        reason: `podman info failed: ${detail}. Without systemd, /etc/containers/containers.conf needs [engine] runtime = "runc", cgroup_manager = "cgroupfs", events_logger = "file"`,
        enforced: [],
      };
    }
    let parsed: PodmanInfo;
    try {
      parsed = JSON.parse(info.stdout) as PodmanInfo;
    } catch {
      return {
        ok: false,
        reason: 'podman info printed no JSON; is this really podman?',
        enforced: [],
      };
    }
    const img = await runProbe(bin, ['image', 'exists', image], { timeoutMs: 30_000, env });
    if (img.code !== 0) {
      return {
        ok: false,
        reason: `podman works but image ${image} is missing. Build it: sh src/sandbox/build-local-image.sh (or buildLocalImage())`,
        enforced: [],
      };
    }
    const h = parsed.host ?? {};
    const controllers = h.cgroupControllers ?? [];
    const enforced = podmanEnforced(controllers);
    const missing = (['memory', 'cpus', 'pids'] as const).filter((p) => !enforced.includes(p));
    const reason =
      `podman ${parsed.version?.Version ?? '?'} (cgroup ${h.cgroupVersion ?? '?'}, ${h.cgroupManager ?? '?'}, ` +
      `${h.ociRuntime?.name ?? '?'}${h.security?.rootless ? ', rootless' : ''}); image ${image}` +
      (missing.length ? `; NOT enforced: ${missing.join(', ')} (cgroup controllers missing)` : '');
    return { ok: true, reason, enforced };
  },
  listOrphans: listLabelledContainers,
};

/** The podman runtime, listed in `builtinRuntimes` (index.ts). */
export const podmanRuntime: RuntimeFactory = {
  name: 'podman',
  description: 'podman containers (cgroup limits; needs a local image)',
  create: (ctx) =>
    new ContainerRuntime(podmanEngine, {
      searchPath: ctx.searchPath ?? process.env.PATH ?? '/usr/bin:/bin',
      image: ctx.image ?? DEFAULT_IMAGE,
      cliEnv: pickCliEnv(process.env),
      logger: ctx.logger,
      owner: ctx.owner,
    }),
};
