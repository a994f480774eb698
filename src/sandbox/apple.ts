/**
 * The Apple `container` runtime (macOS 26+, Apple silicon): each sandbox is a lightweight VM.
 * Its CLI has no --read-only, --security-opt or --pids-limit, so those are not enforced.
 * Not testable on Linux; the argument building is unit-tested.
 */
import { CLAWPOD_LABEL, DEFAULT_IMAGE } from './container-args.js';
import { ContainerRuntime, pickCliEnv, type ContainerEngine } from './container-runtime.js';
import { runProbe } from './exec-util.js';
import type { RuntimeFactory } from './registry.js';
import type { RuntimeAvailability } from './runtime.js';

interface AppleContainer {
  configuration?: { id?: string; labels?: Record<string, string> };
}

/** Ids of clawpod containers in `container list --all --format json` output. */
export function parseAppleOrphans(json: string, label = CLAWPOD_LABEL): string[] {
  const [key, value] = label.split('=') as [string, string];
  let list: AppleContainer[];
  try {
    list = JSON.parse(json) as AppleContainer[];
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list
    .map((c) => c.configuration)
    .filter((c) => c?.id && c.labels?.[key] === value)
    .map((c) => c?.id as string);
}

/** The Apple container engine description used by ContainerRuntime. */
export const appleEngine: ContainerEngine = {
  name: 'apple',
  flavor: 'apple',
  binary: 'container',
  installHint:
    'Install Apple container (https://github.com/apple/container/releases) on macOS 26+ and run: container system start',
  async probe(bin, image, env): Promise<RuntimeAvailability> {
    const st = await runProbe(bin, ['system', 'status'], { timeoutMs: 30_000, env });
    if (st.code !== 0) {
      return {
        ok: false,
        reason: `Apple container services are not running (${st.error ?? (st.stderr.trim() || `exit ${st.code}`)}). Run: container system start`,
        enforced: [],
      };
    }
    const img = await runProbe(bin, ['image', 'inspect', image], { timeoutMs: 30_000, env });
    if (img.code !== 0) {
      return {
        ok: false,
        reason: `Apple container works but image ${image} is missing. Build it: container build -t ${image} container/`,
        enforced: [],
      };
    }
    return {
      ok: true,
      reason: `Apple container (one VM per sandbox); image ${image}; memory/cpus are VM sizes; pids, read-only root and no-new-privileges NOT enforced`,
      enforced: ['wall-time', 'network-none', 'non-root', 'mount-isolation', 'memory', 'cpus'],
    };
  },
  async listOrphans(bin, env, label) {
    const r = await runProbe(bin, ['list', '--all', '--format', 'json'], {
      timeoutMs: 30_000,
      env,
    });
    return r.code === 0 ? parseAppleOrphans(r.stdout, label) : [];
  },
};

/** The apple runtime, listed in `builtinRuntimes` (index.ts). */
export const appleRuntime: RuntimeFactory = {
  name: 'apple',
  description: 'Apple container VMs (macOS 26+, Apple silicon)',
  create: (ctx) =>
    new ContainerRuntime(appleEngine, {
      searchPath: ctx.searchPath ?? process.env.PATH ?? '/usr/bin:/bin',
      image: ctx.image ?? DEFAULT_IMAGE,
      cliEnv: pickCliEnv(process.env),
      logger: ctx.logger,
      owner: ctx.owner,
    }),
};
