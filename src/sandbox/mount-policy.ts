/**
 * Mount policy: the exact list of mounts for one group run.
 *
 * Sandbox view (every runtime):
 *   /workspace/group          $CLAWPOD_HOME/groups/<folder>   rw
 *   /workspace/global         $CLAWPOD_HOME/groups/global     ro (rw for main; skipped if absent)
 *   /workspace/ipc            $CLAWPOD_HOME/ipc/<folder>      rw
 *   /workspace/session        the run's session dir           rw (inside the data dir)
 *   /workspace/extra/<name>   allowlisted extra mounts        ro unless allowed rw
 *
 * Extra mounts pass only if the allowlist file permits them (see extra-mounts.ts for every
 * rule). They are checked again at every run: the allowlist may have changed since a mount was
 * granted, and a folder on its path may have been replaced.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { MountRefusedError } from './errors.js';
import {
  checkExtraMount,
  extraMountContext,
  extraMountTarget,
  nestedNames,
  realDataDir,
  realOrNull,
  within,
  type ExtraMountConfig,
  type ExtraMountRequest,
  type MountRef,
} from './extra-mounts.js';
import { canHoldDirectories, holdDirectory, PathWalkError } from './path-descriptor.js';
import type { Mount } from './runtime.js';

/** Where things appear inside the sandbox. */
export const SANDBOX_PATHS = {
  group: '/workspace/group',
  global: '/workspace/global',
  ipc: '/workspace/ipc',
  session: '/workspace/session',
  extra: '/workspace/extra',
} as const;

/** Injected configuration of the policy. */
export type MountPolicyConfig = ExtraMountConfig;

export { extraMountTarget, type ExtraMountRequest, type MountRef };

/** One group run's mount request. */
export interface GroupMountRequest {
  /** The group's folder name under groups/ and ipc/. */
  folder: string;
  isMain: boolean;
  /** Host path of this run's session dir; must be inside the data dir. */
  sessionDir: string;
  extraMounts?: readonly ExtraMountRequest[];
  /**
   * The extra mounts are a stored group setting: each host path was resolved when it was
   * granted and must still resolve to itself (no symlink put on its path since).
   */
  granted?: boolean;
  /** Read-write extra mounts of every group: a mount inside one of them is refused. */
  writable?: readonly MountRef[];
  /**
   * Hold each extra mount's folder open (walked from / without following a symlink) and put the
   * descriptor in its Mount (`fd`), for a runtime that binds descriptors. Call close() after.
   */
  holdDescriptors?: boolean;
}

/** An extra mount as the sandbox has it, for the agent's instructions. */
export interface ExtraMountView {
  name: string;
  /** The folder on the host, resolved. */
  hostPath: string;
  /** /workspace/extra/<name>. */
  sandboxPath: string;
  readOnly: boolean;
}

/** The mounts, plus notes such as "rw downgraded to ro" for the run log. */
export interface GroupMounts {
  mounts: Mount[];
  warnings: string[];
  /** The extra mounts (also in `mounts`), as decided. */
  extras: ExtraMountView[];
  /** Releases the descriptors held for `holdDescriptors` (once the sandbox has started). */
  close(): Promise<void>;
}

const FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/;

const refuse = (message: string, hint: string): never => {
  throw new MountRefusedError(message, hint);
};

/** A built-in dir: must exist, be a real directory (not a symlink) and stay in the data dir. */
function builtinDir(path: string, what: string, realData: string): string {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return refuse(`The ${what} ${path} does not exist`, 'Create it before starting the run');
  }
  if (st.isSymbolicLink() || !st.isDirectory()) {
    refuse(`The ${what} ${path} is not a plain directory`, 'Replace it with a real directory');
  }
  const real = realpathSync(path);
  if (!within(real, realData)) {
    refuse(
      `The ${what} ${path} resolves outside the data dir (${real})`,
      'Fix the data dir layout',
    );
  }
  return real;
}

/**
 * Build the mounts for one run. Throws MountRefusedError (or AllowlistFileError) with the
 * reason and the fix; never silently drops a requested mount.
 */
export async function buildGroupMounts(
  cfg: MountPolicyConfig,
  req: GroupMountRequest,
): Promise<GroupMounts> {
  if (!FOLDER_PATTERN.test(req.folder) || req.folder === 'global') {
    refuse(`Invalid group folder "${req.folder}"`, 'Use letters, digits, _ . - and not "global"');
  }
  const realData = realDataDir(cfg);
  const warnings: string[] = [];
  const mounts: Mount[] = [];
  const groupDir = builtinDir(join(cfg.dataDir, 'groups', req.folder), 'group folder', realData);
  mounts.push({ hostPath: groupDir, sandboxPath: SANDBOX_PATHS.group, readOnly: false });
  const globalPath = join(cfg.dataDir, 'groups', 'global');
  if (realOrNull(globalPath)) {
    const globalDir = builtinDir(globalPath, 'global folder', realData);
    mounts.push({ hostPath: globalDir, sandboxPath: SANDBOX_PATHS.global, readOnly: !req.isMain });
  } else {
    warnings.push(`No global folder at ${globalPath}; /workspace/global is absent`);
  }
  const ipcDir = builtinDir(join(cfg.dataDir, 'ipc', req.folder), 'IPC dir', realData);
  mounts.push({ hostPath: ipcDir, sandboxPath: SANDBOX_PATHS.ipc, readOnly: false });
  const sessionDir = builtinDir(req.sessionDir, 'session dir', realData);
  if ([groupDir, ipcDir].some((d) => within(sessionDir, d) || within(d, sessionDir))) {
    refuse(
      `Session dir ${req.sessionDir} overlaps the group or IPC dir`,
      'Use $CLAWPOD_HOME/sessions/…',
    );
  }
  mounts.push({ hostPath: sessionDir, sandboxPath: SANDBOX_PATHS.session, readOnly: false });

  const requests = req.extraMounts ?? [];
  const none = async () => {};
  if (requests.length === 0) return { mounts, warnings, extras: [], close: none };
  const names = new Set<string>();
  for (const r of requests) {
    if (names.has(r.name))
      refuse(`Extra mount name "${r.name}" is used twice`, 'Give each mount its own name');
    names.add(r.name);
  }
  // "repos" and "repos/site": the inner target would be made inside the outer host folder.
  const nested = nestedNames([...names]);
  if (nested) {
    refuse(
      `Extra mount names "${nested[0]}" and "${nested[1]}" nest`,
      'Give each mount a name of its own, not one inside another (e.g. "repos-site")',
    );
  }
  const ctx = extraMountContext(cfg, requests[0]?.hostPath);
  const extras: ExtraMountView[] = [];
  for (const r of requests) {
    const checked = checkExtraMount(ctx, r, {
      isMain: req.isMain,
      exact: req.granted,
      writable: req.writable,
      group: req.folder,
    });
    warnings.push(...checked.notes);
    extras.push({
      name: checked.name,
      hostPath: checked.hostPath,
      sandboxPath: checked.sandboxPath,
      readOnly: checked.readOnly,
    });
  }
  const held = req.holdDescriptors && canHoldDirectories() ? await holdAll(extras) : [];
  extras.forEach((x, i) => {
    const fd = held[i]?.fd;
    mounts.push({
      hostPath: x.hostPath,
      sandboxPath: x.sandboxPath,
      readOnly: x.readOnly,
      ...(fd === undefined ? {} : { fd }),
    });
  });
  const close = async () => {
    await Promise.all(held.map((h) => h.close()));
  };
  return { mounts, warnings, extras, close };
}

/** Opens every extra mount's folder without following a symlink; all or none stay open. */
async function holdAll(
  extras: readonly ExtraMountView[],
): Promise<Array<{ fd: number; close(): Promise<void> }>> {
  const held: Array<{ fd: number; close(): Promise<void> }> = [];
  try {
    for (const x of extras) {
      try {
        held.push(await holdDirectory(x.hostPath));
      } catch (e) {
        if (!(e instanceof PathWalkError)) throw e;
        if (e.problem === 'unreadable') {
          return refuse(
            `Extra mount "${x.name}": ${e.message}`,
            'Let the clawpod daemon search every folder on that path',
          );
        }
        return refuse(
          `Extra mount "${x.name}": ${x.hostPath} changed while the sandbox was being set up (${e.message})`,
          'Something replaced a folder on that path; check who can write there before the next run',
        );
      }
    }
    return held;
  } catch (e) {
    await Promise.all(held.map((h) => h.close()));
    throw e;
  }
}
