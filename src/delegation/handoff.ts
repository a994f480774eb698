/**
 * The hand-off folder of one delegation: `handoff/<delegation>/` in the delegate's group folder
 * (its sandbox sees `/workspace/group/handoff/<delegation>/`, read-write). The caller's input
 * files are copied in before the delegate starts; what the delegate leaves there is copied back
 * to the same path in the caller's group folder after it answered.
 *
 * Both folders are sandbox-writable, so both agents are adversaries here: every read and write
 * goes through safe-fs (no symlink followed at any component, only regular single-link files,
 * a planted FIFO never opened for a blocking read), with a cap on the number of files, on the
 * total size and on the depth. Whatever is refused is named in the result, never silently lost.
 */
import { join, posix } from 'node:path';
import { safeMkdirp, safeReadDirStat, safeReadFile, safeWriteFile } from '../sandbox/safe-fs.js';

/** Where the hand-off folders live inside a group folder. */
export const HANDOFF_DIR = 'handoff';
/** Deepest sub-folder copied back (a planted deep tree must not cost descriptors). */
const MAX_DEPTH = 6;
const SANDBOX_GROUP = '/workspace/group';

export interface HandoffLimits {
  /** Where group folders live on the host. */
  groupsDir: string;
  maxFiles: number;
  maxBytes: number;
}

/** What a copy did: files copied (sandbox paths, as the receiving agent sees them), and refusals. */
export interface HandoffCopy {
  files: Array<{ path: string; bytes: number }>;
  skipped: Array<{ path: string; reason: string }>;
}

/** An error's message with the host's group folder shown as the sandbox sees it. */
const shownError = (err: unknown, root: string): string =>
  (err instanceof Error ? err.message : String(err)).split(root).join(SANDBOX_GROUP);

/** The folder of a delegation, relative to a group folder. */
export const handoffRel = (delegation: string): string => `${HANDOFF_DIR}/${delegation}`;

/** `/workspace/group/handoff/<delegation>/<rel>`. */
const sandboxPath = (delegation: string, rel: string): string =>
  posix.join(SANDBOX_GROUP, handoffRel(delegation), rel);

/** A caller's file argument as a path relative to its group folder, or an error. */
export function callerRelative(file: string): { rel: string } | { error: string } {
  const prefix = `${SANDBOX_GROUP}/`;
  const rel = file.startsWith(prefix) ? file.slice(prefix.length) : file;
  const parts = rel.split('/');
  if (rel.startsWith('/') || parts.includes('..') || parts.includes('') || rel.includes('\0'))
    return { error: `files: "${file}" is not a path inside ${SANDBOX_GROUP}` };
  return { rel };
}

/**
 * Creates the delegation's folder in the delegate's group and copies the caller's `files` into
 * it (by their base names). Throws a message the caller's agent can act on when a file cannot
 * be read safely or the caps are crossed.
 */
export async function copyInputs(
  limits: HandoffLimits,
  from: { group: string; files: readonly string[] },
  to: { group: string; delegation: string },
): Promise<HandoffCopy> {
  const toRoot = join(limits.groupsDir, to.group);
  const dir = handoffRel(to.delegation);
  await safeMkdirp(toRoot, dir, { inheritOwner: true });
  const out: HandoffCopy = { files: [], skipped: [] };
  if (from.files.length > limits.maxFiles)
    throw new Error(
      `files: ${from.files.length} files, more than delegation.handoffMaxFiles (${limits.maxFiles})`,
    );
  let total = 0;
  const names = new Set<string>();
  for (const file of from.files) {
    const r = callerRelative(file);
    if ('error' in r) throw new Error(r.error);
    const name = posix.basename(r.rel);
    if (names.has(name)) throw new Error(`files: two files are named "${name}"`);
    names.add(name);
    let data: Buffer;
    try {
      data = await safeReadFile(join(limits.groupsDir, from.group), r.rel, {
        maxBytes: limits.maxBytes - total,
      });
    } catch (err) {
      const fromRoot = join(limits.groupsDir, from.group);
      throw new Error(`files: cannot hand over ${file}: ${shownError(err, fromRoot)}`, {
        cause: err,
      });
    }
    total += data.length;
    await safeWriteFile(toRoot, `${dir}/${name}`, data, { inheritOwner: true });
    out.files.push({ path: sandboxPath(to.delegation, name), bytes: data.length });
  }
  return out;
}

/**
 * Copies what the delegate left in the delegation's folder to the same folder in the caller's
 * group (nothing to copy when both are the same group). Symlinks, FIFOs, devices, hard-linked
 * files, files over the caps and folders too deep are skipped and named.
 */
export async function collectOutputs(
  limits: HandoffLimits,
  from: { group: string; delegation: string },
  to: { group: string },
): Promise<HandoffCopy> {
  const fromRoot = join(limits.groupsDir, from.group);
  const toRoot = join(limits.groupsDir, to.group);
  const base = handoffRel(from.delegation);
  const same = from.group === to.group;
  const out: HandoffCopy = { files: [], skipped: [] };
  let total = 0;
  const walk = async (rel: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await safeReadDirStat(fromRoot, rel ? `${base}/${rel}` : base);
    } catch (err) {
      out.skipped.push({
        path: sandboxPath(from.delegation, rel),
        reason: `not readable as a folder: ${shownError(err, fromRoot)}`,
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const shown = sandboxPath(from.delegation, childRel);
      if (e.type === 'dir') {
        if (depth >= MAX_DEPTH) out.skipped.push({ path: shown, reason: 'folder too deep' });
        else await walk(childRel, depth + 1);
        continue;
      }
      if (e.type !== 'file') {
        out.skipped.push({ path: shown, reason: `not a regular file (${e.type})` });
        continue;
      }
      if (out.files.length >= limits.maxFiles) {
        out.skipped.push({
          path: shown,
          reason: `more than delegation.handoffMaxFiles (${limits.maxFiles}) files`,
        });
        continue;
      }
      let data: Buffer;
      try {
        data = await safeReadFile(fromRoot, `${base}/${childRel}`, {
          maxBytes: limits.maxBytes - total,
        });
      } catch (err) {
        out.skipped.push({ path: shown, reason: shownError(err, fromRoot) });
        continue;
      }
      total += data.length;
      if (!same) {
        const parent = posix.dirname(`${base}/${childRel}`);
        try {
          await safeMkdirp(toRoot, parent, { inheritOwner: true });
          await safeWriteFile(toRoot, `${base}/${childRel}`, data, { inheritOwner: true });
        } catch (err) {
          out.skipped.push({
            path: shown,
            reason: `could not be copied to the caller: ${shownError(err, toRoot)}`,
          });
          continue;
        }
      }
      out.files.push({ path: shown, bytes: data.length });
    }
  };
  await walk('', 0);
  return out;
}
