import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  hashFiles,
  listSkills,
  readSkillDir,
  removeSkill,
  SkillError,
  skillExists,
  writeSkill,
} from './skill-files.js';
import { fetchSource } from './skill-source.js';

/** One installed skill as `$CLAWPOD_HOME/skills.json` records it. */
export const installedSkillSchema = z.object({
  name: z.string(),
  /** A group folder, or `global` (every group). */
  group: z.string(),
  source: z.string(),
  path: z.string().default(''),
  ref: z.string().nullable().default(null),
  /** The commit it was installed from; null for a plain folder. */
  commit: z.string().nullable(),
  /** sha256 over its files as installed. */
  hash: z.string(),
  installedAt: z.number(),
});
export type InstalledSkill = z.infer<typeof installedSkillSchema>;
const recordSchema = z.object({ skills: z.array(installedSkillSchema) });

/** Installs, lists, updates and removes skills in group folders; records each install. */
export class SkillInstaller {
  constructor(
    private readonly opts: {
      home: string;
      groupsDir: string;
      /** Whether a group folder name is a group (or `global`). */
      groupExists: (name: string) => boolean;
      now?: () => number;
    },
  ) {}

  private get recordFile(): string {
    return join(this.opts.home, 'skills.json');
  }

  records(): InstalledSkill[] {
    try {
      return recordSchema.parse(JSON.parse(readFileSync(this.recordFile, 'utf8'))).skills;
    } catch {
      return [];
    }
  }

  private save(skills: InstalledSkill[]): void {
    const tmp = `${this.recordFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ skills }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.recordFile);
  }

  private groupDir(group: string): string {
    if (!this.opts.groupExists(group))
      throw new SkillError(`no group named "${group}" (clawpod groups list)`);
    return join(this.opts.groupsDir, group);
  }

  /** Installs the skill at `source` into a group (default `global`: every group sees it). */
  async add(
    source: string,
    o: { group?: string; path?: string; ref?: string } = {},
  ): Promise<InstalledSkill> {
    const group = o.group ?? 'global';
    const dir = this.groupDir(group);
    const fetched = await fetchSource(source, o);
    try {
      const { meta, files } = readSkillDir(fetched.skillDir);
      if (await skillExists(dir, meta.name))
        throw new SkillError(
          `group ${group} has a skill "${meta.name}" already (clawpod skills remove ${meta.name}${group === 'global' ? '' : ` --group ${group}`})`,
        );
      await writeSkill(dir, meta.name, files);
      const rec: InstalledSkill = {
        name: meta.name,
        group,
        source,
        path: o.path ?? '',
        ref: o.ref ?? null,
        commit: fetched.commit,
        hash: hashFiles(files),
        installedAt: (this.opts.now ?? Date.now)(),
      };
      this.save([
        ...this.records().filter((r) => !(r.name === rec.name && r.group === group)),
        rec,
      ]);
      return rec;
    } finally {
      fetched.cleanup();
    }
  }

  private find(name: string, group: string): InstalledSkill {
    const rec = this.records().find((r) => r.name === name && r.group === group);
    if (!rec)
      throw new SkillError(
        `no skill "${name}" installed with clawpod skills add in ${group} (clawpod skills list)`,
      );
    return rec;
  }

  /**
   * What an update would change: the source fetched again at its ref (default its HEAD), and
   * the diff from the installed commit. `apply` replaces the installed files with the new ones.
   */
  async update(
    name: string,
    o: {
      group?: string;
      show: (diff: string) => void;
      apply: (from: string, to: string) => Promise<boolean>;
    },
  ): Promise<{ status: 'current' | 'updated' | 'kept'; record: InstalledSkill }> {
    const group = o.group ?? 'global';
    const rec = this.find(name, group);
    const dir = this.groupDir(group);
    const fetched = await fetchSource(rec.source, { ref: rec.ref ?? undefined, path: rec.path });
    try {
      const { meta, files } = readSkillDir(fetched.skillDir);
      const hash = hashFiles(files);
      if (meta.name !== name)
        throw new SkillError(`the source now names the skill "${meta.name}", not "${name}"`);
      if (hash === rec.hash && fetched.commit === rec.commit)
        return { status: 'current', record: rec };
      const from = rec.commit ?? rec.hash.slice(0, 12);
      const to = fetched.commit ?? hash.slice(0, 12);
      if (fetched.git && rec.commit) {
        const scope = rec.path ? ['--', rec.path] : [];
        o.show(
          (await fetched.git(['diff', '--stat', rec.commit, fetched.commit!, ...scope])) +
            '\n' +
            (await fetched.git(['diff', rec.commit, fetched.commit!, ...scope])),
        );
      } else o.show(`files changed (content ${rec.hash.slice(0, 12)} → ${hash.slice(0, 12)})\n`);
      if (!(await o.apply(from, to))) return { status: 'kept', record: rec };
      await removeSkill(dir, name);
      await writeSkill(dir, name, files);
      const next = {
        ...rec,
        commit: fetched.commit,
        hash,
        installedAt: (this.opts.now ?? Date.now)(),
      };
      this.save(this.records().map((r) => (r.name === name && r.group === group ? next : r)));
      return { status: 'updated', record: next };
    } finally {
      fetched.cleanup();
    }
  }

  /** Removes a skill folder from a group (installed by `add`, shipped or made by hand). */
  async remove(name: string, o: { group?: string } = {}): Promise<void> {
    const group = o.group ?? 'global';
    const dir = this.groupDir(group);
    if (!(await skillExists(dir, name)))
      throw new SkillError(`group ${group} has no skill "${name}" (clawpod skills list)`);
    await removeSkill(dir, name);
    this.save(this.records().filter((r) => !(r.name === name && r.group === group)));
  }

  /** Every skill in the given group folders, with where it came from. */
  async list(groups: string[]): Promise<
    Array<{
      group: string;
      name: string;
      description: string | null;
      origin: string;
      problem?: string;
    }>
  > {
    const recs = this.records();
    const out = [];
    for (const group of groups) {
      for (const s of await listSkills(join(this.opts.groupsDir, group))) {
        const rec = recs.find((r) => r.name === s.name && r.group === group);
        out.push({
          group,
          ...s,
          origin: rec
            ? `${rec.source}${rec.path ? `#${rec.path}` : ''} @ ${rec.commit ? rec.commit.slice(0, 12) : `sha256:${rec.hash.slice(0, 12)}`}`
            : 'local',
        });
      }
    }
    return out;
  }
}
