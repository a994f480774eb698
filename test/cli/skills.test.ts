import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { installShippedSkills } from '../../src/skills/shipped.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';

const tmp = useTempDirs();
const skillMd = (body: string) =>
  `---\nname: greet\ndescription: Greets people warmly. Use when someone says hello.\n---\n\n${body}\n`;

function gitRepo(): { dir: string; commit: (msg: string) => string } {
  const dir = tmp();
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@x',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@x',
      },
    })
      .toString()
      .trim();
  git('init', '--quiet', '-b', 'main');
  return {
    dir,
    commit: (msg) => {
      git('add', '-A');
      git('commit', '--quiet', '-m', msg);
      return git('rev-parse', 'HEAD');
    },
  };
}

describe('clawpod skills', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    home = tmp();
    env = cliEnv(home);
  });
  const installed = (group: string) =>
    join(home, 'groups', group, '.claude', 'skills', 'greet', 'SKILL.md');

  it('adds a skill from git pinned to its commit; update shows the diff before applying', async () => {
    const repo = gitRepo();
    mkdirSync(join(repo.dir, 'skills', 'greet'), { recursive: true });
    writeFileSync(join(repo.dir, 'skills', 'greet', 'SKILL.md'), skillMd('Say hello.'));
    writeFileSync(join(repo.dir, 'skills', 'greet', 'phrases.txt'), 'hi\n');
    const first = repo.commit('first');

    const add = await runCli(['skills', 'add', repo.dir, '--path', 'skills/greet'], env);
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain(
      `installed skill greet for every group (global) from ${repo.dir} at ${first}`,
    );
    expect(readFileSync(installed('global'), 'utf8')).toContain('Say hello.');
    expect(existsSync(join(home, 'groups/global/.claude/skills/greet/phrases.txt'))).toBe(true);
    const record = JSON.parse(readFileSync(join(home, 'skills.json'), 'utf8'));
    expect(record.skills[0]).toMatchObject({
      name: 'greet',
      group: 'global',
      commit: first,
      path: 'skills/greet',
    });

    const list = await runCli(['skills', 'list'], env);
    expect(list.stdout).toMatch(
      new RegExp(`global +greet +.*#skills/greet @ ${first.slice(0, 12)} +Greets people`),
    );

    writeFileSync(
      join(repo.dir, 'skills', 'greet', 'SKILL.md'),
      skillMd('Say hello, and ask how they are.'),
    );
    const second = repo.commit('second');
    const shown = await runCli(['skills', 'update', 'greet'], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('-Say hello.');
    expect(shown.stdout).toContain('+Say hello, and ask how they are.');
    expect(shown.stdout).toContain('not applied: run again with --yes');
    expect(readFileSync(installed('global'), 'utf8')).toContain('Say hello.\n');

    const applied = await runCli(['skills', 'update', 'greet', '--yes'], env);
    expect(applied.stdout).toContain(`updated greet to ${second}`);
    expect(readFileSync(installed('global'), 'utf8')).toContain('ask how they are');
    expect(JSON.parse(readFileSync(join(home, 'skills.json'), 'utf8')).skills[0].commit).toBe(
      second,
    );
    expect((await runCli(['skills', 'update', 'greet'], env)).stdout).toContain(
      'greet is up to date',
    );

    expect((await runCli(['skills', 'remove', 'greet'], env)).code).toBe(0);
    expect(existsSync(installed('global'))).toBe(false);
  });

  it('installs a plain folder into one group, pinned by content hash; bad input is refused', async () => {
    const src = tmp();
    writeFileSync(join(src, 'SKILL.md'), skillMd('Plain.'));
    expect((await runCli(['groups', 'add', 'team'], env)).code).toBe(0);
    const add = await runCli(['skills', 'add', src, '--group', 'team'], env);
    expect(add.stdout).toMatch(
      /installed skill greet for group team .*content sha256 [0-9a-f]{12}/,
    );
    expect(existsSync(installed('team'))).toBe(true);
    const again = await runCli(['skills', 'add', src, '--group', 'team'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('group team has a skill "greet" already');

    const nobody = await runCli(['skills', 'add', src, '--group', 'nobody'], env);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('no group named "nobody"');
    const bad = tmp();
    writeFileSync(join(bad, 'SKILL.md'), '# no front matter\n');
    const refused = await runCli(['skills', 'add', bad], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no front matter');
  });
});

describe('shipped agent skills', () => {
  it('are copied into groups/global on first start, never overwritten, never brought back', async () => {
    const home = tempHome();
    const d = await startDaemon(home, []);
    await d.stop();
    const skills = join(home, 'groups', 'global', '.claude', 'skills');
    for (const name of ['schedule', 'memory', 'web-research'])
      expect(readFileSync(join(skills, name, 'SKILL.md'), 'utf8')).toMatch(
        new RegExp(`^---\\nname: ${name}\\n`),
      );
    expect(readFileSync(join(home, 'groups', 'global', 'AGENTS.md'), 'utf8')).toContain(
      'schedule_task',
    );

    writeFileSync(join(skills, 'memory', 'SKILL.md'), 'my own version');
    rmSync(join(skills, 'schedule'), { recursive: true });
    const copied = await installShippedSkills({ home, globalDir: join(home, 'groups', 'global') });
    expect(copied).toEqual([]);
    expect(readFileSync(join(skills, 'memory', 'SKILL.md'), 'utf8')).toBe('my own version');
    expect(existsSync(join(skills, 'schedule'))).toBe(false);
    rmSync(home, { recursive: true, force: true });
  });
});
