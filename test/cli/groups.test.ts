import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Group } from '../../src/store/group-schema.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';

const tmp = useTempDirs();
let env: NodeJS.ProcessEnv;
let home: string;

beforeEach(() => {
  home = tmp();
  env = cliEnv(home);
});

const groupsJson = async (): Promise<Group[]> => {
  const r = await runCli(['groups', 'list', '--json'], env);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Group[];
};

describe('clawpod groups (straight on the database, no daemon)', () => {
  it('add, list --json, set, bind, show, rm round trip', async () => {
    const add = await runCli(
      [
        'groups',
        'add',
        'family',
        '--chat',
        'telegram:-100',
        '--chat',
        'web:family',
        '--trigger',
        '@Bob',
        '--harness',
        'codex',
      ],
      env,
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('added group family');
    expect(existsSync(join(home, 'groups', 'family', 'CLAUDE.md'))).toBe(true);

    let list = await groupsJson();
    expect(list.map((g) => g.folder)).toEqual(['main', 'family']);
    const fam = list.find((g) => g.folder === 'family')!;
    expect(fam).toMatchObject({
      trigger: '@Bob',
      harness: 'codex',
      requiresTrigger: true,
      chats: ['telegram:-100', 'web:family'],
    });

    const set = await runCli(
      [
        'groups',
        'set',
        'family',
        'requires_trigger=false',
        'model=gpt-5',
        'limits.memoryMb=512',
        'limits.cpus=1.5',
      ],
      env,
    );
    expect(set.code).toBe(0);
    list = await groupsJson();
    expect(list[1]).toMatchObject({
      requiresTrigger: false,
      model: 'gpt-5',
      limits: { memoryMb: 512, cpus: 1.5 },
    });

    const clear = await runCli(
      ['groups', 'set', 'family', 'model=null', 'limits.memoryMb=null', '--json'],
      env,
    );
    expect(clear.code).toBe(0);
    const cleared = JSON.parse(clear.stdout) as Group;
    expect(cleared.model).toBeNull();
    expect(cleared.limits).toEqual({ cpus: 1.5 });

    const bind = await runCli(['groups', 'bind', 'family', 'slack:C123'], env);
    expect(bind.code).toBe(0);
    expect(bind.stdout).toContain('slack:C123');

    const show = await runCli(['groups', 'show', 'family'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/chats: +telegram:-100, web:family, slack:C123/);
    expect(show.stdout).toMatch(/harness: +codex/);

    const rm = await runCli(['groups', 'rm', 'family'], env);
    expect(rm.code).toBe(0);
    expect((await groupsJson()).map((g) => g.folder)).toEqual(['main']);
    // The memory folder stays.
    expect(existsSync(join(home, 'groups', 'family', 'CLAUDE.md'))).toBe(true);
  });

  it('sets harness options by their old names and as <harness>.<option>, and shows them', async () => {
    const set = await runCli(
      [
        'groups',
        'set',
        'main',
        'effort=high',
        'agent_teams=true',
        'codex.provider={"name":"ollama","baseUrl":"/upstream/ollama/v1","envKey":null,"wireApi":"responses"}',
        '--json',
      ],
      env,
    );
    expect(set.stderr).toBe('');
    expect((JSON.parse(set.stdout) as Group).harnessOptions).toEqual({
      claude: { effort: 'high', agentTeams: true },
      codex: {
        effort: 'high',
        provider: {
          name: 'ollama',
          baseUrl: '/upstream/ollama/v1',
          envKey: null,
          wireApi: 'responses',
        },
      },
    });
    expect(
      (await runCli(['groups', 'set', 'main', 'claude.effort=null', 'codex.effort=low'], env)).code,
    ).toBe(0);
    const show = await runCli(['groups', 'show', 'main'], env);
    expect(show.stdout).toMatch(/^claude: +agentTeams=true$/m);
    expect(show.stdout).toMatch(/^codex: +effort=low, provider=\{"name":"ollama",/m);
    const bad = await runCli(['groups', 'set', 'main', 'claude.colour=blue'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('harnessOptions.claude');
    expect(bad.stderr).toContain('colour');
  });

  it('an invalid name, a duplicate, a taken chat and removing main fail with exit 1 and a message', async () => {
    const bad = await runCli(['groups', 'add', 'Bad Name'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/name: lowercase letters/);

    expect((await runCli(['groups', 'add', 'ops'], env)).code).toBe(0);
    const dup = await runCli(['groups', 'add', 'ops'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');

    const taken = await runCli(['groups', 'bind', 'ops', 'web:main'], env);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('bound to group "main"');

    const main = await runCli(['groups', 'rm', 'main'], env);
    expect(main.code).toBe(1);
    expect(main.stderr).toContain('main group cannot be removed');

    const missing = await runCli(['groups', 'show', 'nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no group named "nope"');

    const value = await runCli(['groups', 'set', 'ops', 'harness=gpt'], env);
    expect(value.code).toBe(1);
    expect(value.stderr).toContain('harness');
  });

  it('bad key=value syntax and unknown keys are usage errors (exit 2)', async () => {
    expect((await runCli(['groups', 'add', 'ops'], env)).code).toBe(0);
    for (const args of [
      ['novalue'],
      ['colour=blue'],
      ['requires_trigger=maybe'],
      ['limits.pids=many'],
    ]) {
      const r = await runCli(['groups', 'set', 'ops', ...args], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^clawpod: /);
    }
    const choice = await runCli(['groups', 'add', 'x', '--harness', 'gpt'], env);
    expect(choice.code).toBe(2);
  });

  it('--no-trigger makes a group answer every message', async () => {
    expect(
      (await runCli(['groups', 'add', 'solo', '--no-trigger', '--chat', 'web:solo'], env)).code,
    ).toBe(0);
    const g = (await groupsJson()).find((x) => x.folder === 'solo')!;
    expect(g.requiresTrigger).toBe(false);
    expect(g.chats).toEqual(['web:solo']);
  });
});
