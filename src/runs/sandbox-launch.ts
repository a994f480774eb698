import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Egress } from '../egress/egress.js';
import type { Group, GroupMount } from '../store/group-schema.js';
import type { ProxyInfo } from '../protocol/runner-protocol.js';
import { mountPolicyFor } from '../groups/group-mounts.js';
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
  /**
   * Every group's extra mounts (GroupStore.allMounts): a mount inside another group's
   * read-write one is refused at the run. Absent: only the group's own are considered.
   */
  allMounts?: () => Array<{ group: string; mount: GroupMount }>;
  /** Called when a group with mounts starts a sandbox (the daemon watches the allowlist then). */
  watchAllowlist?: () => void;
}

/** An extra mount as the agent is told about it: where it is in its view, and whether it may write. */
export interface ExtraMountInfo {
  name: string;
  path: string;
  readOnly: boolean;
}

/** A started sandbox whose runner waits for its start request on stdin. */
export interface LaunchedSandbox {
  handle: SandboxHandle;
  ipcDir: string;
  proxy: ProxyInfo | null;
  closeEgress: () => Promise<void>;
  /** The group's extra mounts as mounted (read-only where the allowlist made them so). */
  extraMounts: ExtraMountInfo[];
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
  if (g.mounts.length) deps.watchAllowlist?.();
  const everyMount = deps.allMounts?.() ?? g.mounts.map((mount) => ({ group: g.folder, mount }));
  // Checked again at every run: the allowlist may have changed, a path may now be a symlink.
  const built = await buildGroupMounts(mountPolicyFor(config, homedir()), {
    folder: g.folder,
    isMain: g.isMain,
    sessionDir,
    extraMounts: g.mounts,
    granted: true,
    writable: everyMount
      .filter((o) => !o.mount.readOnly)
      .map((o) => ({ group: o.group, name: o.mount.name, hostPath: o.mount.hostPath })),
    // bubblewrap binds the checked folder by descriptor; the others mount by path.
    holdDescriptors: runtime.name === 'bubblewrap',
  });
  const { mounts, warnings } = built;
  for (const w of warnings) log.warn(w);
  const all = [...mounts, ...agentMounts(job.packages, deps.packageRoot)];
  // The `none` runtime has no /workspace view: point the runner at the host paths instead.
  const at = (p: string) => (runtime.name === 'none' ? mapToHost(p, all) : p);
  const extraMounts = built.extras.map((x) => ({
    name: x.name,
    path: at(x.sandboxPath),
    readOnly: x.readOnly,
  }));
  if (extraMounts.length)
    log.info(
      {
        mounts: built.extras.map(
          (x) => `${x.hostPath} -> ${x.sandboxPath} (${x.readOnly ? 'ro' : 'rw'})`,
        ),
      },
      'extra mounts',
    );
  const limits = { ...config.file.limits, ...g.limits };
  let egress: Awaited<ReturnType<typeof openRunEgress>>;
  try {
    egress = await openRunEgress(deps.egress, {
      group: g,
      session: job.label,
      harness: job.harness,
      runtime: runtime.name,
    });
  } catch (err) {
    await built.close();
    throw err;
  }
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
    return { handle, ipcDir, proxy: egress.proxy, closeEgress: egress.close, extraMounts };
  } catch (err) {
    await egress.close();
    throw err;
  } finally {
    // The child has its own copies of the mount descriptors once spawn() returned.
    await built.close();
  }
}
