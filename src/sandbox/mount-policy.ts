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
 * Extra mounts pass only if the allowlist file permits them. Host paths are resolved through
 * symlinks first; blocked names (BUILTIN_BLOCKED_PATTERNS + the file's) are refused anywhere in
 * the resolved path and at the top level of a mounted directory; the data dir, the database
 * and the allowlist file are refused, and so is any directory containing them.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { loadAllowlist, type Allowlist } from './allowlist.js';
import { compileBlocked, findBlocked, type BlockedPattern } from './blocked-names.js';
import { MountRefusedError } from './errors.js';
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
export interface MountPolicyConfig {
  /** CLAWPOD_HOME, absolute. */
  dataDir: string;
  /** The allowlist file (see defaultAllowlistPath); must lie outside the data dir. */
  allowlistPath: string;
  /** Home directory used to expand `~` in requests and allowlist roots. */
  homeDir: string;
  /** The database file; default <dataDir>/clawpod.db. */
  dbPath?: string;
}

/** An extra mount a group asks for; it appears at /workspace/extra/<name>. */
export interface ExtraMountRequest {
  hostPath: string;
  name: string;
  readOnly: boolean;
}

/** One group run's mount request. */
export interface GroupMountRequest {
  /** The group's folder name under groups/ and ipc/. */
  folder: string;
  isMain: boolean;
  /** Host path of this run's session dir; must be inside the data dir. */
  sessionDir: string;
  extraMounts?: readonly ExtraMountRequest[];
}

/** The mounts, plus notes such as "rw downgraded to ro" for the run log. */
export interface GroupMounts {
  mounts: Mount[];
  warnings: string[];
}

const FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/;
const NAME_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

const refuse = (message: string, hint: string): never => {
  throw new MountRefusedError(message, hint);
};

/** Validate an extra mount name; returns its sandbox path. */
export function extraMountTarget(name: string): string {
  const hint = 'Use a relative name made of letters, digits, _ . - (e.g. "docs" or "repos/site")';
  if (typeof name !== 'string' || name.length === 0) refuse('Extra mount name is empty', hint);
  if (name.startsWith('/')) refuse(`Extra mount name "${name}" is absolute`, hint);
  if (name.includes(':')) refuse(`Extra mount name "${name}" contains ':'`, hint);
  const comps = name.split('/');
  if (comps.includes('..')) refuse(`Extra mount name "${name}" contains '..'`, hint);
  for (const c of comps) {
    if (!NAME_COMPONENT.test(c) || c === '.')
      refuse(`Extra mount name "${name}" is not allowed`, hint);
  }
  return `${SANDBOX_PATHS.extra}/${name}`;
}

function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return join(homeDir, p.slice(2));
  return p;
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

const within = (p: string, root: string): boolean =>
  p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

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

/** Protected host paths an extra mount may neither be inside of nor contain. */
function protectedPaths(cfg: MountPolicyConfig, realData: string): string[] {
  const out = [realData];
  for (const p of [cfg.allowlistPath, cfg.dbPath ?? join(cfg.dataDir, 'clawpod.db')]) {
    out.push(normalize(p));
    const real = realOrNull(p);
    if (real) out.push(real);
  }
  return out;
}

function checkExtra(
  cfg: MountPolicyConfig,
  req: ExtraMountRequest,
  isMain: boolean,
  allowlist: Allowlist,
  blocked: readonly BlockedPattern[],
  realData: string,
  warnings: string[],
): Mount {
  const target = extraMountTarget(req.name);
  const label = `Extra mount "${req.name}"`;
  const requested = expandHome(req.hostPath, cfg.homeDir);
  if (!isAbsolute(requested)) {
    refuse(`${label}: host path "${req.hostPath}" is not absolute`, 'Use an absolute path or ~/…');
  }
  if (/[\0\n:,]/.test(requested)) {
    refuse(
      `${label}: host path "${req.hostPath}" contains ':', ',' or a control character`,
      'Rename the folder',
    );
  }
  const real = realOrNull(requested);
  if (!real) refuse(`${label}: host path ${requested} does not exist`, 'Create it or fix the path');
  const resolved = real as string;
  if (/[\0\n:,]/.test(resolved)) {
    refuse(
      `${label}: ${req.hostPath} resolves to ${resolved}, which contains ':' or ','`,
      'Rename the folder',
    );
  }
  for (const p of [normalize(requested), resolved]) {
    const hit = findBlocked(p, blocked);
    if (hit) {
      refuse(
        `${label}: ${req.hostPath} is blocked (${hit.at} matches "${hit.pattern}")`,
        'Secrets such as keys, .ssh, .aws and .env are never mounted; mount a folder without them',
      );
    }
  }
  for (const p of protectedPaths(cfg, realData)) {
    if (within(resolved, p) || within(p, resolved)) {
      refuse(
        `${label}: ${req.hostPath} overlaps clawpod's own state (${p})`,
        'The data dir, the database and the mount allowlist are never mounted',
      );
    }
  }
  if (lstatSync(resolved).isDirectory()) {
    for (const entry of readdirSync(resolved)) {
      const hit = findBlocked(join(resolved, entry), blocked);
      if (hit && hit.at.startsWith(`${resolved}/`)) {
        refuse(
          `${label}: ${req.hostPath} contains ${hit.at} (matches "${hit.pattern}")`,
          'Mount a subfolder that holds no secrets, or move the secret out',
        );
      }
    }
    // Multi-component patterns (".config/clawpod") one level down.
    for (const p of blocked) {
      if (p.parts.length > 1 && !/[*?]/.test(p.source) && realOrNull(join(resolved, p.source))) {
        refuse(`${label}: ${req.hostPath} contains ${p.source}`, 'Mount a subfolder instead');
      }
    }
  }
  let best: { root: string; rw: boolean } | null = null;
  for (const r of allowlist.allowedRoots) {
    const root = realOrNull(expandHome(r.path, cfg.homeDir));
    if (root && within(resolved, root) && (!best || root.length > best.root.length)) {
      best = { root, rw: r.allowReadWrite };
    }
  }
  if (!best) {
    return refuse(
      `${label}: ${resolved} is not under any allowedRoots of ${cfg.allowlistPath}`,
      `Add its parent to allowedRoots in ${cfg.allowlistPath} if the agent should see it`,
    );
  }
  let readOnly = req.readOnly;
  if (!readOnly && !best.rw) {
    readOnly = true;
    warnings.push(
      `${label} mounted read-only: allowed root ${best.root} does not allow read-write`,
    );
  }
  if (!readOnly && !isMain && allowlist.nonMainReadOnly) {
    readOnly = true;
    warnings.push(
      `${label} mounted read-only: nonMainReadOnly is set and this is not the main group`,
    );
  }
  return { hostPath: resolved, sandboxPath: target, readOnly };
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
  const realData = realOrNull(cfg.dataDir);
  if (!realData)
    return refuse(`Data dir ${cfg.dataDir} does not exist`, 'Start the daemon once to create it');
  const realAllow = realOrNull(cfg.allowlistPath) ?? normalize(cfg.allowlistPath);
  if (within(realAllow, realData)) {
    refuse(
      `The mount allowlist ${cfg.allowlistPath} is inside the data dir`,
      'Keep it outside, e.g. ~/.config/clawpod/',
    );
  }
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

  const extras = req.extraMounts ?? [];
  if (extras.length === 0) return { mounts, warnings };
  const allowlist = await loadAllowlist(cfg.allowlistPath);
  if (!allowlist) {
    return refuse(
      `Group ${req.folder} asks for extra mounts but there is no mount allowlist at ${cfg.allowlistPath}`,
      'Create it: {"allowedRoots":[{"path":"~/projects","allowReadWrite":false}]}',
    );
  }
  const blocked = compileBlocked(allowlist.blockedPatterns);
  const names = new Set<string>();
  for (const req2 of extras) {
    if (names.has(req2.name))
      refuse(`Extra mount name "${req2.name}" is used twice`, 'Give each mount its own name');
    names.add(req2.name);
    mounts.push(checkExtra(cfg, req2, req.isMain, allowlist, blocked, realData, warnings));
  }
  return { mounts, warnings };
}
