/**
 * Host identities of sandboxes. A root daemon runs each group as a uid of its own, so per-uid
 * limits (RLIMIT_NPROC) and file ownership are per group: group slot n runs as
 * `uidBase + n`, and every sandbox shares gid `uidBase` (the gid that may traverse the data
 * dir and read `groups/global`; it grants nothing else). A non-root daemon cannot switch uid:
 * every sandbox then runs as the daemon's own uid and gid.
 *
 * The range must be free on the host: no user or group in it (/etc/passwd, /etc/group), and no
 * subordinate id range overlapping it (/etc/subuid, /etc/subgid), or someone else's processes
 * could share a sandbox's uid (its limits, its files).
 */
import { readFileSync } from 'node:fs';
import { SandboxError } from './errors.js';

/** The configured id range: ids `base` … `base + count - 1`. */
export interface SandboxIdRange {
  base: number;
  count: number;
}

/** The host uid and gid a sandbox runs as. */
export interface SandboxIdentity {
  uid: number;
  gid: number;
}

/** The ids of the daemon process (root when uid is 0). */
export interface DaemonIds {
  uid: number;
  gid: number;
}

/** The host files consulted for collisions; absent files count as empty. */
export const HOST_ID_FILES = {
  passwd: '/etc/passwd',
  group: '/etc/group',
  subuid: '/etc/subuid',
  subgid: '/etc/subgid',
} as const;

export type HostIdFiles = Record<keyof typeof HOST_ID_FILES, string>;

/** The configured range collides with ids the host already uses, or a slot lies outside it. */
export class SandboxIdRangeError extends SandboxError {
  constructor(message: string, hint: string) {
    super('SANDBOX_ID_RANGE', message, hint);
  }
}

/** The process's own ids (1000 where the platform has none, e.g. Windows). */
export function daemonIds(): DaemonIds {
  const uid = process.getuid?.() ?? 1000;
  return { uid, gid: process.getgid?.() ?? uid };
}

/**
 * The identity group slot `slot` runs as. Root daemon: `base + slot` : `base`; otherwise the
 * daemon's own ids. Throws SandboxIdRangeError when the slot does not fit the range.
 */
export function sandboxIdentity(
  range: SandboxIdRange,
  group: { folder: string; sandboxSlot: number },
  daemon: DaemonIds = daemonIds(),
): SandboxIdentity {
  if (daemon.uid !== 0) return { uid: daemon.uid, gid: daemon.gid };
  const { sandboxSlot: slot } = group;
  if (!Number.isInteger(slot) || slot < 1 || slot >= range.count) {
    throw new SandboxIdRangeError(
      `Group "${group.folder}" has sandbox slot ${slot}, outside sandbox.uidCount ${range.count} (ids ${range.base}-${range.base + range.count - 1})`,
      `Raise sandbox.uidCount in config.yaml above ${slot}`,
    );
  }
  return { uid: range.base + slot, gid: range.base };
}

/** One named id (a user or group) or a subordinate id range. */
interface IdEntry {
  name: string;
  start: number;
  count: number;
}

/** `name:x:id:…` lines of /etc/passwd or /etc/group (malformed lines are skipped). */
export function parseIdDatabase(text: string): IdEntry[] {
  const out: IdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , id] = line.split(':');
    const n = Number(id);
    if (name && id !== undefined && id !== '' && Number.isInteger(n)) {
      out.push({ name, start: n, count: 1 });
    }
  }
  return out;
}

/** `owner:start:count` lines of /etc/subuid or /etc/subgid. */
export function parseSubordinateIds(text: string): IdEntry[] {
  const out: IdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, start, count] = line.split(':');
    const s = Number(start);
    const c = Number(count);
    if (name && Number.isInteger(s) && Number.isInteger(c) && c > 0) {
      out.push({ name, start: s, count: c });
    }
  }
  return out;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Every host id entry overlapping the range, described for a human (empty: the range is free). */
export function idRangeCollisions(
  range: SandboxIdRange,
  files: HostIdFiles = HOST_ID_FILES,
): string[] {
  const last = range.base + range.count - 1;
  const overlaps = (e: IdEntry) => e.start <= last && e.start + e.count - 1 >= range.base;
  const found: string[] = [];
  const named = (file: string, what: string) => {
    for (const e of parseIdDatabase(readOrEmpty(file)).filter(overlaps)) {
      found.push(`${what} ${e.name} (${e.start}) in ${file}`);
    }
  };
  const ranges = (file: string, what: string) => {
    for (const e of parseSubordinateIds(readOrEmpty(file)).filter(overlaps)) {
      found.push(`${what} of ${e.name} (${e.start}-${e.start + e.count - 1}) in ${file}`);
    }
  };
  named(files.passwd, 'user');
  named(files.group, 'group');
  ranges(files.subuid, 'subordinate uids');
  ranges(files.subgid, 'subordinate gids');
  return found;
}

/**
 * Refuses a range the host already uses (root daemon only: a non-root daemon never switches
 * uid). Throws SandboxIdRangeError naming every collision and the keys to change.
 */
export function assertIdRangeFree(
  range: SandboxIdRange,
  daemon: DaemonIds = daemonIds(),
  files: HostIdFiles = HOST_ID_FILES,
): void {
  if (daemon.uid !== 0) return;
  const collisions = idRangeCollisions(range, files);
  if (collisions.length === 0) return;
  throw new SandboxIdRangeError(
    `The sandbox id range ${range.base}-${range.base + range.count - 1} (sandbox.uidBase, sandbox.uidCount) is already in use: ${collisions.join('; ')}`,
    'Set sandbox.uidBase (and sandbox.uidCount) in config.yaml to a free range; see docs/sandbox.md',
  );
}

/** Warnings for deprecated keys that are set (logged at every start). */
export function deprecatedIdKeys(sandbox: { uid?: number; gid?: number }): string[] {
  const set = (['uid', 'gid'] as const).filter((k) => sandbox[k] !== undefined);
  if (set.length === 0) return [];
  return [
    `config.yaml: sandbox.${set.join(' and sandbox.')} ${set.length > 1 ? 'are' : 'is'} no longer used and ignored: a root daemon runs each group as its own uid from sandbox.uidBase (docs/sandbox.md); remove ${set.length > 1 ? 'them' : 'it'}`,
  ];
}
