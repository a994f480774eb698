import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { safeCreateFile } from '../sandbox/safe-fs.js';
import { readSkillDir, skillExists, writeSkill } from './skill-files.js';

/** The agent skills clawpod ships (`skills/agent/` of the package), and the global AGENTS.md. */
export const SHIPPED_SKILLS_DIR = fileURLToPath(new URL('../../skills/agent/', import.meta.url));

const recordSchema = z.object({ installed: z.array(z.string()) });

/** Where the host remembers what it shipped once (outside every sandbox's view). */
export const shippedRecordFile = (home: string) => join(home, 'shipped-skills.json');

function readRecord(file: string): Set<string> {
  try {
    return new Set(recordSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).installed);
  } catch {
    return new Set();
  }
}

/**
 * Copies the shipped agent skills into `groups/global/.claude/skills/` (and the codex guidance
 * as `groups/global/AGENTS.md`), each once: what the owner changed is never overwritten, and
 * what they removed does not come back (the names shipped are remembered in
 * `$CLAWPOD_HOME/shipped-skills.json`). The global folder is writable by main's sandbox, so
 * every write refuses planted links (see skill-files.ts). Returns what was copied now.
 */
export async function installShippedSkills(opts: {
  home: string;
  globalDir: string;
  sourceDir?: string;
}): Promise<string[]> {
  const source = opts.sourceDir ?? SHIPPED_SKILLS_DIR;
  if (!existsSync(source)) return [];
  const recordFile = shippedRecordFile(opts.home);
  const done = readRecord(recordFile);
  const copied: string[] = [];
  for (const e of readdirSync(source, { withFileTypes: true })) {
    const key = e.isDirectory() ? `skill:${e.name}` : `file:${e.name}`;
    if (done.has(key)) continue;
    if (e.isDirectory()) {
      const { meta, files } = readSkillDir(join(source, e.name));
      if (!(await skillExists(opts.globalDir, meta.name))) {
        await writeSkill(opts.globalDir, meta.name, files);
        copied.push(meta.name);
      }
    } else if (e.isFile() && e.name === 'AGENTS.md') {
      const made = await safeCreateFile(
        opts.globalDir,
        e.name,
        readFileSync(join(source, e.name)),
        { inheritOwner: true },
      );
      if (made === 'created') copied.push(e.name);
    } else continue;
    done.add(key);
  }
  if (copied.length || !existsSync(recordFile)) {
    const tmp = `${recordFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ installed: [...done].sort() }, null, 2) + '\n', {
      mode: 0o600,
    });
    renameSync(tmp, recordFile);
  }
  return copied;
}
