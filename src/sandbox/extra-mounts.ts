/**
 * The checks of one extra mount (a host folder a group asks for at /workspace/extra/<name>),
 * shared by the mount policy at every run and by the group setting `mounts` when it is set.
 *
 * A request passes only if the allowlist file permits it: the host path is resolved through
 * symlinks; blocked names are refused anywhere in it and at the top level of the folder; the
 * data dir, the database and the allowlist file are refused, and so is any folder containing
 * them; the folder must lie under an allowed root, and is read-write only where that root and
 * (for non-main groups) `nonMainReadOnly` allow it. A folder inside another mount some group
 * has read-write is refused too: that group's agent could swap folders on its path.
 */
import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { parseAllowlist, type Allowlist } from './allowlist.js';
import { compileBlocked, findBlocked, type BlockedPattern } from './blocked-names.js';
import { AllowlistFileError, MountRefusedError } from './errors.js';

/** Where extra mounts appear inside the sandbox. */
export const EXTRA_ROOT = '/workspace/extra';

/** An extra mount a group asks for; it appears at /workspace/extra/<name>. */
export interface ExtraMountRequest {
  hostPath: string;
  name: string;
  readOnly: boolean;
}

/** An extra mount of some group (its resolved host path), for the nesting rule. */
export interface MountRef {
  group: string;
  name: string;
  hostPath: string;
}

/** What the checks need to know about the installation. */
export interface ExtraMountConfig {
  /** CLAWPOD_HOME, absolute. */
  dataDir: string;
  /** The allowlist file (see defaultAllowlistPath); must lie outside the data dir. */
  allowlistPath: string;
  /** Home directory used to expand `~` in requests and allowlist roots. */
  homeDir: string;
  /** The database file; default <dataDir>/clawpod.db. */
  dbPath?: string;
}

/** The allowlist, its compiled blocked names and the resolved data dir, read once per check. */
export interface ExtraMountContext {
  cfg: ExtraMountConfig;
  allowlist: Allowlist;
  blocked: readonly BlockedPattern[];
  realData: string;
}

/** One extra mount as the policy decided it. */
export interface CheckedExtraMount {
  name: string;
  /** The folder, resolved through symlinks. */
  hostPath: string;
  sandboxPath: string;
  /** What is mounted: read-only when asked, or when the allowlist does not allow read-write. */
  readOnly: boolean;
  /** Why a read-write request is mounted read-only, with the fix (empty otherwise). */
  notes: string[];
}

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
  return `${EXTRA_ROOT}/${name}`;
}

/** Two names whose sandbox paths nest ("repos" and "repos/site"), or null. */
export function nestedNames(names: readonly string[]): [string, string] | null {
  for (const a of names) for (const b of names) if (a !== b && b.startsWith(`${a}/`)) return [a, b];
  return null;
}

export function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return join(homeDir, p.slice(2));
  return p;
}

/**
 * The allowed root to suggest for `path`: its parent folder (`~/projects` for
 * `~/projects/app`), or the folder itself when the parent is `/` or the home directory (never
 * advise allowing all of either).
 */
export function suggestedRoot(path: string, homeDir: string): string {
  const parent = dirname(path);
  return tildePath(parent === '/' || parent === homeDir ? path : parent, homeDir);
}

/** `path` with the home directory shown as `~`, for messages a user copies from. */
export function tildePath(path: string, homeDir: string): string {
  if (path === homeDir) return '~';
  return path.startsWith(`${homeDir}/`) ? `~/${path.slice(homeDir.length + 1)}` : path;
}

export function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** `p` is `root` or below it (both absolute, normalised). */
export const within = (p: string, root: string): boolean =>
  p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/** Protected host paths an extra mount may neither be inside of nor contain. */
function protectedPaths(cfg: ExtraMountConfig, realData: string): string[] {
  const out = [realData];
  for (const p of [cfg.allowlistPath, cfg.dbPath ?? join(cfg.dataDir, 'clawpod.db')]) {
    out.push(normalize(p));
    const real = realOrNull(p);
    if (real) out.push(real);
  }
  return out;
}

/**
 * The data dir resolved, once the allowlist is known to lie outside it (an agent could
 * otherwise write its own grants). Throws MountRefusedError.
 */
export function realDataDir(cfg: Pick<ExtraMountConfig, 'dataDir' | 'allowlistPath'>): string {
  const realData = realOrNull(cfg.dataDir);
  if (!realData)
    return refuse(`Data dir ${cfg.dataDir} does not exist`, 'Start the daemon once to create it');
  const realAllow = realOrNull(cfg.allowlistPath) ?? normalize(cfg.allowlistPath);
  if (within(realAllow, realData)) {
    refuse(
      `The mount allowlist ${cfg.allowlistPath} is inside the data dir`,
      'Keep it outside, e.g. ~/.config/clawpod/ (set sandbox.allowlistPath in config.yaml)',
    );
  }
  return realData;
}

/**
 * Reads the allowlist and the data dir for a round of checks. Throws MountRefusedError when
 * there is no allowlist file (saying how to create one for `forPath`), AllowlistFileError when
 * it is malformed.
 */
export function extraMountContext(cfg: ExtraMountConfig, forPath?: string): ExtraMountContext {
  const realData = realDataDir(cfg);
  let text: string;
  try {
    text = readFileSync(cfg.allowlistPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AllowlistFileError(
        cfg.allowlistPath,
        null,
        `cannot be read (${(e as Error).message})`,
      );
    const root = forPath
      ? suggestedRoot(normalize(expandHome(forPath, cfg.homeDir)), cfg.homeDir)
      : '~/projects';
    return refuse(
      `Extra mounts need a mount allowlist, and there is none at ${cfg.allowlistPath}`,
      `Create it, e.g. {"allowedRoots":[{"path":"${root}","allowReadWrite":false}]} (allowReadWrite: true for folders agents may change)`,
    );
  }
  const allowlist = parseAllowlist(text, cfg.allowlistPath);
  return { cfg, allowlist, blocked: compileBlocked(allowlist.blockedPatterns), realData };
}

/** Options of one check. */
export interface CheckOptions {
  isMain: boolean;
  /**
   * The host path was resolved when the mount was granted (a stored group setting): it must
   * still resolve to itself, so a folder on it replaced by a symlink since is refused.
   */
  exact?: boolean;
  /** Read-write mounts of every group (this one's included), for the nesting rule. */
  writable?: readonly MountRef[];
  /**
   * Every mount of every group: a read-write request holding one of them is refused too. Given
   * when a mount is set (at a run, the mount inside is the one refused).
   */
  all?: readonly MountRef[];
  /** The group asking (to tell its own mounts from others' in messages). */
  group?: string;
}

/** Checks one request against the policy; throws MountRefusedError with the rule and the fix. */
export function checkExtraMount(
  ctx: ExtraMountContext,
  req: ExtraMountRequest,
  opts: CheckOptions,
): CheckedExtraMount {
  const { cfg, allowlist, blocked, realData } = ctx;
  const sandboxPath = extraMountTarget(req.name);
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
  if (opts.exact && resolved !== normalize(requested)) {
    refuse(
      `${label}: ${requested} now resolves to ${resolved}: a folder on that path was replaced by a symlink since the mount was granted`,
      `Check who changed it; to mount the new place, grant it again (clawpod groups mount <group> ${resolved} --name ${req.name})`,
    );
  }
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
  if (!lstatSync(resolved).isDirectory()) {
    refuse(`${label}: ${resolved} is not a folder`, 'Mount the folder that holds it');
  }
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
  const problem = nestingProblem(resolved, req, opts);
  if (problem) refuse(`${label}: ${problem.message}`, problem.hint);
  let best: { root: string; shown: string; rw: boolean } | null = null;
  for (const r of allowlist.allowedRoots) {
    const root = realOrNull(expandHome(r.path, cfg.homeDir));
    if (root && within(resolved, root) && (!best || root.length > best.root.length)) {
      best = { root, shown: r.path, rw: r.allowReadWrite };
    }
  }
  if (!best) {
    const parent = suggestedRoot(resolved, cfg.homeDir);
    return refuse(
      `${label}: ${resolved} is not under any allowedRoots of ${cfg.allowlistPath}`,
      `If agents may see it, add "${parent}" to allowedRoots in ${cfg.allowlistPath}, e.g. {"path":"${parent}","allowReadWrite":${String(!req.readOnly)}}`,
    );
  }
  let readOnly = req.readOnly;
  const notes: string[] = [];
  if (!readOnly && !best.rw) {
    readOnly = true;
    notes.push(
      `${label} is mounted read-only: its allowed root ${best.shown} does not allow read-write (set "allowReadWrite": true on it in ${cfg.allowlistPath})`,
    );
  }
  if (!readOnly && !opts.isMain && allowlist.nonMainReadOnly) {
    readOnly = true;
    notes.push(
      `${label} is mounted read-only: nonMainReadOnly is on and this is not the main group (set "nonMainReadOnly": false in ${cfg.allowlistPath} to let other groups write)`,
    );
  }
  return { name: req.name, hostPath: resolved, sandboxPath, readOnly, notes };
}

/**
 * A folder strictly inside a read-write mount (of any group) is refused: the agent there could
 * put a symlink or another folder on its path while a sandbox starts. Equal paths are fine
 * (an agent cannot replace the folder it has mounted).
 */
function nestingProblem(
  resolved: string,
  req: ExtraMountRequest,
  opts: CheckOptions,
): { message: string; hint: string } | null {
  for (const w of opts.writable ?? []) {
    if (w.hostPath === resolved || !within(resolved, w.hostPath)) continue;
    const whose = w.group === opts.group ? 'this group' : `group "${w.group}"`;
    return {
      message: `${resolved} lies inside ${w.hostPath}, which ${whose} mounts read-write ("${w.name}"); that agent could swap folders on this path`,
      hint: `Mount ${w.hostPath} itself, or make "${w.name}" read-only (clawpod groups mount ${w.group} ${w.hostPath} --name ${w.name})`,
    };
  }
  if (!req.readOnly) {
    // A read-write request must not hold others' mounts either (checked when it is set).
    for (const w of opts.all ?? []) {
      if (w.hostPath === resolved || !within(w.hostPath, resolved)) continue;
      const whose = w.group === opts.group ? 'this group' : `group "${w.group}"`;
      return {
        message: `${resolved} holds ${w.hostPath}, which ${whose} mounts ("${w.name}"); with ${resolved} read-write this agent could swap folders on that path`,
        hint: `Mount it read-only, or remove "${w.name}" first (clawpod groups unmount ${w.group} ${w.name})`,
      };
    }
  }
  return null;
}
