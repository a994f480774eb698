import type { Command } from 'commander';
import { confirm, isCancel } from '@clack/prompts';
import { loadConfig, type Config } from '../../config/load.js';
import { GroupService } from '../../groups/group-service.js';
import { SkillError } from '../../skills/skill-files.js';
import { SkillInstaller } from '../../skills/installer.js';
import { json, oneLine, table } from '../format.js';
import { withLocalStore } from '../local.js';
import { UsageError } from '../usage-error.js';

/** The installer for this data dir, with the groups as the database has them. */
async function withInstaller<T>(
  fn: (skills: SkillInstaller, groups: string[], config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const groups = await withLocalStore(config, { create: true }, (store) => {
    new GroupService(store, config.paths).ensureMain();
    return store.groups.list().map((g) => g.folder);
  });
  const installer = new SkillInstaller({
    home: config.paths.home,
    groupsDir: config.paths.groups,
    groupExists: (g) => g === 'global' || groups.includes(g),
  });
  try {
    return await fn(installer, groups, config);
  } catch (err) {
    // A skill problem is the owner's input to fix: a usage error with the reason.
    if (err instanceof SkillError) throw new UsageError(err.message);
    throw err;
  }
}

const where = (group: string) => (group === 'global' ? 'every group (global)' : `group ${group}`);

/** `clawpod skills list|add|update|remove`: agent skills in group folders, pinned to a commit. */
export function registerSkills(program: Command): void {
  const skills = program
    .command('skills')
    .description("agent skills in the groups' .claude/skills folders (global: every group)");

  skills
    .command('list', { isDefault: true })
    .description('skills of every group (or one), with where each came from')
    .option('--group <name>', 'only this group (global for the shared ones)')
    .option('--json', 'print as JSON')
    .action(async (opts: { group?: string; json?: boolean }) => {
      const out = await withInstaller(async (s, groups) => {
        const list = await s.list(opts.group ? [opts.group] : ['global', ...groups]);
        if (opts.json) return json(list);
        if (!list.length) return 'no skills yet: clawpod skills add <git-url|path> [--group g]';
        return table(
          ['GROUP', 'NAME', 'FROM', 'DESCRIPTION'],
          list.map((x) => [
            x.group,
            x.name,
            x.origin,
            x.problem ? `(unreadable: ${oneLine(x.problem, 50)})` : oneLine(x.description, 60),
          ]),
        );
      });
      console.log(out);
    });

  skills
    .command('add <source>')
    .description(
      'install a skill from a git repository (URL or path) or a folder, pinned to its commit',
    )
    .option('--group <name>', 'the group that gets it (default: global, every group)')
    .option('--path <folder>', 'the skill folder inside the source (default: its root)')
    .option('--ref <ref>', 'branch, tag or commit to install (default: the default branch)')
    .action(async (source: string, opts: { group?: string; path?: string; ref?: string }) => {
      const rec = await withInstaller((s) => s.add(source, opts));
      console.log(
        `installed skill ${rec.name} for ${where(rec.group)} from ${source}${rec.commit ? ` at ${rec.commit}` : ` (content sha256 ${rec.hash.slice(0, 12)})`}; agents see it from their next session`,
      );
    });

  skills
    .command('update <name>')
    .description('fetch the source again, show the diff, and apply it when confirmed')
    .option('--group <name>', 'the group it is in (default: global)')
    .option('-y, --yes', 'apply without asking')
    .action(async (name: string, opts: { group?: string; yes?: boolean }) => {
      const r = await withInstaller((s) =>
        s.update(name, {
          group: opts.group,
          show: (diff) => process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`),
          apply: async (from, to) => {
            if (opts.yes) return true;
            if (!process.stdin.isTTY) {
              console.log(
                `not applied: run again with --yes to update ${from.slice(0, 12)} → ${to.slice(0, 12)}`,
              );
              return false;
            }
            const ok = await confirm({
              message: `Apply ${from.slice(0, 12)} → ${to.slice(0, 12)}?`,
            });
            return !isCancel(ok) && ok;
          },
        }),
      );
      if (r.status === 'current')
        console.log(`${name} is up to date (${r.record.commit ?? r.record.hash.slice(0, 12)})`);
      else if (r.status === 'updated')
        console.log(
          `updated ${name} to ${r.record.commit ?? `sha256 ${r.record.hash.slice(0, 12)}`}`,
        );
    });

  skills
    .command('remove <name>')
    .alias('rm')
    .description("remove a skill from a group's folder")
    .option('--group <name>', 'the group it is in (default: global)')
    .action(async (name: string, opts: { group?: string }) => {
      await withInstaller((s) => s.remove(name, opts));
      console.log(`removed skill ${name} from ${where(opts.group ?? 'global')}`);
    });
}
