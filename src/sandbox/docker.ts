/**
 * The docker runtime. Needs a reachable Docker engine; a docker CLI without an engine reports
 * unavailable with the reason.
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

interface DockerInfo {
  ServerVersion?: string;
  MemoryLimit?: boolean;
  PidsLimit?: boolean;
  CpuCfsQuota?: boolean;
  ServerErrors?: string[];
}

/** Which limits the engine reports it can enforce. */
export function dockerEnforced(info: DockerInfo): Protection[] {
  const out: Protection[] = [
    'wall-time',
    'network-none',
    'non-root',
    'mount-isolation',
    'no-new-privileges',
    'read-only-root',
  ];
  if (info.MemoryLimit) out.push('memory');
  if (info.CpuCfsQuota) out.push('cpus');
  if (info.PidsLimit) out.push('pids');
  return out;
}

/** The docker engine description used by ContainerRuntime. */
export const dockerEngine: ContainerEngine = {
  name: 'docker',
  flavor: 'docker',
  binary: 'docker',
  installHint:
    'Install Docker Engine (https://docs.docker.com/engine/install/) and build the agent image',
  async probe(bin, image, env): Promise<RuntimeAvailability> {
    const r = await runProbe(bin, ['info', '--format', '{{json .}}'], { timeoutMs: 30_000, env });
    let info: DockerInfo = {};
    try {
      info = JSON.parse(r.stdout) as DockerInfo;
    } catch {
      // fall through with empty info
    }
    const serverErr = info.ServerErrors?.[0] ?? r.stderr.trim().split('\n')[0];
    if (r.code !== 0 || !info.ServerVersion) {
      return {
        ok: false,
        reason: `docker CLI found but no Docker engine answers (${r.error ?? serverErr ?? `exit ${r.code}`}). Start the engine (systemctl start docker), point DOCKER_HOST at one, or use runtime bubblewrap/podman`,
        enforced: [],
      };
    }
    const img = await runProbe(bin, ['image', 'inspect', '--format', '{{.Id}}', image], {
      timeoutMs: 30_000,
      env,
    });
    if (img.code !== 0) {
      return {
        ok: false,
        reason: `docker engine ${info.ServerVersion} works but image ${image} is missing. Build it (docker build -t ${image} container/)`,
        enforced: [],
      };
    }
    const enforced = dockerEnforced(info);
    const missing = (['memory', 'cpus', 'pids'] as const).filter((p) => !enforced.includes(p));
    const suffix = missing.length ? `; NOT enforced: ${missing.join(', ')}` : '';
    return {
      ok: true,
      reason: `docker engine ${info.ServerVersion}; image ${image}${suffix}`,
      enforced,
    };
  },
  listOrphans: listLabelledContainers,
};

/** The docker runtime, listed in `builtinRuntimes` (index.ts). */
export const dockerRuntime: RuntimeFactory = {
  name: 'docker',
  description: 'Docker engine containers (cgroup limits; needs the agent image)',
  create: (ctx) =>
    new ContainerRuntime(dockerEngine, {
      searchPath: ctx.searchPath ?? process.env.PATH ?? '/usr/bin:/bin',
      image: ctx.image ?? DEFAULT_IMAGE,
      cliEnv: pickCliEnv(process.env),
      logger: ctx.logger,
      owner: ctx.owner,
    }),
};
