import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  safeCreateFile,
  safeLstat,
  safeMkdirp,
  safeReadDir,
  safeReadFile,
  safeRemoveTree,
} from '../sandbox/safe-fs.js';

/** Where skills live in a group folder (Claude Code reads them; `groups/global` for all). */
export const SKILLS_DIR = '.claude/skills';

/** A skill as the Agent Skills format describes it: SKILL.md front matter. */
export const skillMetaSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and -, at most 64'),
  description: z.string().min(1).max(1024),
});
export type SkillMeta = z.infer<typeof skillMetaSchema>;

/** A problem with a skill or where it goes, with what to do. */
export class SkillError extends Error {}

/** Reads the front matter of a SKILL.md text (between the leading `---` lines). */
export function parseSkillMd(text: string, where: string): SkillMeta {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!m) throw new SkillError(`${where}: no front matter (--- name, description ---) at the top`);
  let raw: unknown;
  try {
    raw = parseYaml(m[1]!);
  } catch (err) {
    throw new SkillError(`${where}: front matter is not YAML: ${(err as Error).message}`);
  }
  const r = skillMetaSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SkillError(`${where}: front matter ${i.path.join('.') || 'block'}: ${i.message}`);
  }
  return r.data;
}

/** The files of a skill on the host (a source checkout): relative path → bytes. */
export type SkillFiles = Map<string, Buffer>;

const MAX_FILES = 200;
const MAX_BYTES = 5 * 1024 * 1024;

/**
 * Reads a skill folder from a source the owner chose (a checkout or a shipped folder):
 * regular files only (links and `.git` left out), at most 200 files and 5 MiB.
 */
export function readSkillDir(dir: string): { meta: SkillMeta; files: SkillFiles } {
  const files: SkillFiles = new Map();
  let total = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const data = readFileSync(p);
        total += data.length;
        files.set(relative(dir, p), data);
        if (files.size > MAX_FILES || total > MAX_BYTES)
          throw new SkillError(`${dir}: a skill may hold at most ${MAX_FILES} files and 5 MiB`);
      }
    }
  };
  if (!lstatSync(dir).isDirectory()) throw new SkillError(`${dir} is not a folder`);
  walk(dir);
  const md = files.get('SKILL.md');
  if (!md) throw new SkillError(`${dir} has no SKILL.md`);
  return { meta: parseSkillMd(md.toString('utf8'), join(dir, 'SKILL.md')), files };
}

/** A content hash of a skill's files (order-independent), recorded beside the commit. */
export function hashFiles(files: SkillFiles): string {
  const h = createHash('sha256');
  for (const name of [...files.keys()].sort()) {
    h.update(name).update('\0').update(files.get(name)!).update('\0');
  }
  return h.digest('hex');
}

/** Whether a skill folder exists in a group folder (never following a planted link). */
export async function skillExists(groupDir: string, name: string): Promise<boolean> {
  try {
    await safeLstat(groupDir, `${SKILLS_DIR}/${name}`);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes a skill into a group folder, which its sandbox can write: every directory is opened
 * without following links and every file created new (a planted symlink or file makes it fail,
 * never write elsewhere). Created entries get the folder's owner (the group's sandbox uid).
 */
export async function writeSkill(groupDir: string, name: string, files: SkillFiles): Promise<void> {
  const base = `${SKILLS_DIR}/${name}`;
  await safeMkdirp(groupDir, base, { inheritOwner: true });
  for (const [rel, data] of files) {
    const parts = rel.split('/');
    if (parts.length > 1)
      await safeMkdirp(groupDir, `${base}/${parts.slice(0, -1).join('/')}`, {
        inheritOwner: true,
      });
    const made = await safeCreateFile(groupDir, `${base}/${rel}`, data, { inheritOwner: true });
    if (made === 'exists') throw new SkillError(`${groupDir}/${base}/${rel} exists already`);
  }
}

/** Removes a skill folder from a group folder (links removed, never followed). */
export async function removeSkill(groupDir: string, name: string): Promise<void> {
  await safeRemoveTree(groupDir, `${SKILLS_DIR}/${name}`);
}

/** The skills found in a group folder, with their front matter (unreadable ones named). */
export async function listSkills(
  groupDir: string,
): Promise<Array<{ name: string; description: string | null; problem?: string }>> {
  let entries;
  try {
    entries = await safeReadDir(groupDir, SKILLS_DIR);
  } catch {
    return [];
  }
  const out = [];
  for (const e of entries
    .filter((x) => x.type === 'dir')
    .sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      const md = await safeReadFile(groupDir, `${SKILLS_DIR}/${e.name}/SKILL.md`, {
        maxBytes: 256 * 1024,
      });
      out.push({
        name: e.name,
        description: parseSkillMd(md.toString('utf8'), e.name).description,
      });
    } catch (err) {
      out.push({ name: e.name, description: null, problem: (err as Error).message });
    }
  }
  return out;
}
