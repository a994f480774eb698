import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Egress } from '../egress/egress.js';
import type { Group } from '../store/group-schema.js';
import type { ProxyInfo } from '../protocol/runner-protocol.js';
import { defaultAllowlistPath } from '../sandbox/allowlist.js';
import { prepareGroupDirs } from '../sandbox/group-dirs.js';
import { buildGroupMounts, SANDBOX_PATHS } from '../sandbox/mount-policy.js';
import { mapToHost } from '../sandbox/none.js';
import type { Mount, Runtime, SandboxHandle } from '../sandbox/runtime.js';
import { sandboxIdentity, type SandboxIdentity } from '../sandbox/sandbox-ids.js';
import { openRunEgress } from './run-egress.js';

/** The package root on the host: the bundles in dist/agent-bundle/, harness packages in node_modules/. */
const PACKAGE_ROOT = resolve(import.meta.dirname, '../..');
const AGENT_ROOT = '/opt/clawpod';
/** The runner bundle as the sandbox sees it (`npm run build` writes it). */
export const RUNNER_IN_SANDBOX = `${AGENT_ROOT}/agent/runner.cjs`;

/** The host folder of the runner and MCP server bundles. */
export function agentBundleDir(root: string = PACKAGE_ROOT): string {
  return join(root, 'dist', 'agent-bundle');
}

/**
 * What a sandbox sees of clawpod itself, all read-only: the bundles (runner and MCP server) at
 * /opt/clawpod/agent, and each of `packages` (a harness's npm packages) that is installed at
 * /opt/clawpod/node_modules/<name>, where the runner's imports and the SDKs' own lookups find
 * them. Nothing else of dist/ or node_modules/. A package that is not installed (another
 * platform's binary) is left out; the harness reports what is missing from inside.
 */
export function agentMounts(packages: readonly string[], root: string = PACKAGE_ROOT): Mount[] {
  const mounts: Mount[] = [
    { hostPath: agentBundleDir(root), sandboxPath: `${AGENT_ROOT}/agent`, readOnly: true },
  ];
  for (const name of packages) {
    const dir = join(root, 'node_modules', name);
    if (!existsSync(dir)) continue;
    mounts.push({
      hostPath: realpathSync(dir),
      sandboxPath: `${AGENT_ROOT}/node_modules/${name}`,
      readOnly: true,
    });
  }
  return mounts;
}

/** What launching needs from the daemon. */
export interface LaunchDeps {
  config: Config;
  /** Called before each sandbox starts (the IPC host makes sure it watches the group). */
  beforeRun?: (folder: string) => void;
  /** The credential/egress proxy; without it every sandbox has no network at all. */
  egress?: Egress;
  /** Tool-name patterns the group's guard rules may ask about (StartRequest.guardedTools). */
  guardedTools?: (folder: string) => string[];
  /** Where the bundles (dist/agent-bundle/) and harness packages (node_modules/) are; default this package. */
  packageRoot?: string;
}

/** A started sandbox whose runner waits for its start request on stdin. */
export interface LaunchedSandbox {
  handle: SandboxHandle;
  ipcDir: string;
  proxy: ProxyInfo | null;
  closeEgress: () => Promise<void>;
}

/** The host uid/gid `group` runs as: its own (sandbox.uidBase + slot) under a root daemon. */
export function sandboxUser(config: Config, group: Group): SandboxIdentity {
  const { uidBase, uidCount } = config.file.sandbox;
  return sandboxIdentity({ base: uidBase, count: uidCount }, group);
}

/**
 * Starts a sandbox for `group` with the in-sandbox runner, which then waits for its start
 * request: directories, mounts by the mount policy, the run's egress proxy, the spawn. Used for
 * each run, and ahead of the first message for `warm` groups.
 */
export async function launchSandbox(
  deps: LaunchDeps,
  runtime: Runtime,
  job: {
    group: Group;
    harness: string;
    /** npm packages the harness loads in the sandbox (its spec's `packages`), mounted read-only. */
    packages: readonly string[];
    label: string;
    timezone: string;
    /** The host kills the sandbox after this long. */
    wallTimeMs: number;
    /** Instead of the runner (a task's pre-check script). */
    command?: string[];
  },
  log: Logger,
): Promise<LaunchedSandbox> {
  const { config } = deps;
  const g = job.group;
  const user = sandboxUser(config, g);
  deps.beforeRun?.(g.folder);
  const { ipcDir, sessionDir } = prepareGroupDirs({
    paths: config.paths,
    folder: g.folder,
    isMain: g.isMain,
    owner: user,
    // These runtimes open the mount sources as the sandbox uid; containers mount as root.
    traverse: runtime.name === 'bubblewrap' || runtime.name === 'none',
  });
  const { mounts, warnings } = await buildGroupMounts(
    {
      dataDir: config.paths.home,
      allowlistPath: config.file.sandbox.allowlistPath ?? defaultAllowlistPath(homedir()),
      homeDir: homedir(),
      dbPath: config.paths.db,
    },
    { folder: g.folder, isMain: g.isMain, sessionDir },
  );
  for (const w of warnings) log.warn(w);
  const all = [...mounts, ...agentMounts(job.packages, deps.packageRoot)];
  // The `none` runtime has no /workspace view: point the runner at the host paths instead.
  const at = (p: string) => (runtime.name === 'none' ? mapToHost(p, all) : p);
  const limits = { ...config.file.limits, ...g.limits };
  const egress = await openRunEgress(deps.egress, {
    group: g,
    runId: job.label,
    harness: job.harness,
    runtime: runtime.name,
  });
  try {
    const handle = runtime.spawn({
      id: `${g.folder}-${job.label}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '-'),
      command: job.command ?? ['node', at(RUNNER_IN_SANDBOX)],
      mounts: all,
      env: {
        ...g.env, // the group's extra, non-secret variables; the ones below always win
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: at(SANDBOX_PATHS.session),
        LANG: 'C.UTF-8',
        TZ: job.timezone,
        CLAWPOD_IPC_DIR: at(SANDBOX_PATHS.ipc),
        CLAWPOD_WORKDIR: at(SANDBOX_PATHS.group),
      },
      workdir: SANDBOX_PATHS.group,
      uid: user.uid,
      gid: user.gid,
      limits: {
        memoryMb: limits.memoryMb,
        cpus: limits.cpus,
        pids: limits.pids,
        wallTimeMs: job.wallTimeMs,
      },
      network: egress.network,
      image: config.file.sandbox.image,
    });
    return { handle, ipcDir, proxy: egress.proxy, closeEgress: egress.close };
  } catch (err) {
    await egress.close();
    throw err;
  }
}
