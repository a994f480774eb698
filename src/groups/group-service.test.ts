import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { dataPaths, type DataPaths } from '../config/load.js';
import { Store } from '../store/store.js';
import { GroupError } from './errors.js';
import { GroupService } from './group-service.js';

const tempDir = useTempDirs('clawpod-groups-');

let store: Store;
let paths: DataPaths;
let svc: GroupService;

beforeEach(() => {
  store = Store.open(':memory:');
  paths = dataPaths(tempDir());
  svc = new GroupService(store, paths, () => 1_000);
});

/** Runs `fn` and returns the GroupError it throws (fails the test otherwise). */
function groupError(fn: () => unknown): GroupError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GroupError);
    return err as GroupError;
  }
  throw new Error('expected a GroupError, nothing was thrown');
}

describe('GroupService.ensureMain', () => {
  it('creates main, trigger-free, bound to web:main, with its folder and memory', () => {
    const main = svc.ensureMain();
    expect(main).toMatchObject({
      folder: 'main',
      isMain: true,
      requiresTrigger: false,
      chats: ['web:main'],
    });
    expect(store.groups.groupForChat('web:main')?.folder).toBe('main');
    expect(readFileSync(join(paths.groups, 'main', 'CLAUDE.md'), 'utf8')).toMatch(/^# Main/);
    expect(existsSync(join(paths.groups, 'global', 'CLAUDE.md'))).toBe(true);
  });

  it('is idempotent and never overwrites memory', () => {
    const first = svc.ensureMain();
    const memory = join(paths.groups, 'main', 'CLAUDE.md');
    writeFileSync(memory, '# Main\n\nThe owner likes short answers.\n');
    const second = svc.ensureMain();
    expect(second).toEqual(first);
    expect(svc.list()).toHaveLength(1);
    expect(store.groups.get('main')!.chats).toEqual(['web:main']);
    expect(readFileSync(memory, 'utf8')).toContain('short answers');
  });
});

describe('GroupService.add', () => {
  it('creates a group with its chats and folder', () => {
    const g = svc.add({ name: 'team-1', chats: ['tg:-100', 'slack:C01'], trigger: '@Bot' });
    expect(g).toMatchObject({
      folder: 'team-1',
      isMain: false,
      trigger: '@Bot',
      requiresTrigger: true,
      createdAt: 1_000,
    });
    expect([...g.chats].sort()).toEqual(['slack:C01', 'tg:-100']);
    expect(readFileSync(join(paths.groups, 'team-1', 'CLAUDE.md'), 'utf8')).toBe('# team-1\n');
  });

  it.each([
    ['Bad', 'uppercase'],
    ['-x', 'leading dash'],
    ['_x', 'leading underscore'],
    ['global', 'reserved'],
    ['a'.repeat(65), '65 characters'],
    ['', 'empty'],
    ['a b', 'space'],
    ['../etc', 'path'],
  ])('refuses the name %j (%s)', (name) => {
    const err = groupError(() => svc.add({ name }));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/^name: /);
    expect(svc.list()).toEqual([]);
    // Nothing is written to disk for a refused name.
    expect(existsSync(paths.groups)).toBe(false);
  });

  it.each(['team-1', 'a', 'a_b', '0day', 'a'.repeat(64)])('accepts the name %j', (name) => {
    expect(svc.add({ name }).folder).toBe(name);
  });

  it('says which key is wrong for a bad setting, an unknown key or a bad chat id', () => {
    expect(groupError(() => svc.add({ name: 'x', harness: 'gpt' }))).toMatchObject({
      code: 'invalid',
    });
    expect(groupError(() => svc.add({ name: 'x', harness: 'gpt' })).message).toMatch(/^harness: /);
    expect(groupError(() => svc.add({ name: 'x', colour: 'red' })).message).toMatch(/colour/);
    expect(groupError(() => svc.add({ name: 'x', chats: ['no-colon'] })).message).toMatch(
      /^chats\.0: /,
    );
    expect(svc.list()).toEqual([]);
  });

  it('refuses a duplicate name with conflict', () => {
    svc.add({ name: 'team' });
    const err = groupError(() => svc.add({ name: 'team' }));
    expect(err.code).toBe('conflict');
    expect(err.message).toContain('team');
  });

  it('refuses a chat already bound to another group, and creates nothing', () => {
    svc.ensureMain();
    svc.add({ name: 'a', chats: ['tg:1'] });
    const err = groupError(() => svc.add({ name: 'b', chats: ['tg:2', 'tg:1'] }));
    expect(err.code).toBe('conflict');
    expect(err.message).toContain('tg:1');
    expect(err.message).toContain('"a"');
    // All or nothing: no group b, no binding for tg:2, tg:1 still with a.
    expect(store.groups.get('b')).toBeUndefined();
    expect(store.groups.groupForChat('tg:2')).toBeUndefined();
    expect(store.groups.groupForChat('tg:1')?.folder).toBe('a');
    expect(existsSync(join(paths.groups, 'b'))).toBe(false);

    expect(groupError(() => svc.add({ name: 'c', chats: ['web:main'] })).code).toBe('conflict');
  });
});

describe('GroupService.bind', () => {
  it('binds a free chat and refuses one owned by another group', () => {
    svc.add({ name: 'a', chats: ['tg:1'] });
    svc.add({ name: 'b' });
    expect(svc.bind('b', 'tg:2').chats).toEqual(['tg:2']);
    expect(groupError(() => svc.bind('b', 'tg:1')).code).toBe('conflict');
    expect(store.groups.groupForChat('tg:1')?.folder).toBe('a');
    // Binding a chat to the group that already has it is fine.
    expect(svc.bind('a', 'tg:1').chats).toEqual(['tg:1']);
    expect(groupError(() => svc.bind('nope', 'tg:3')).code).toBe('not_found');
    expect(groupError(() => svc.bind('b', 'bad id')).code).toBe('invalid');
  });
});

describe('GroupService.update', () => {
  it('changes the given settings', () => {
    svc.add({ name: 'team' });
    const g = svc.update('team', {
      requiresTrigger: false,
      model: 'claude-x',
      limits: { cpus: 2 },
    });
    expect(g).toMatchObject({ requiresTrigger: false, model: 'claude-x', limits: { cpus: 2 } });
  });

  it('stores harness settings: effort, agent teams, extra env and a codex provider', () => {
    svc.add({ name: 'team', effort: 'high', agentTeams: true });
    const g = svc.update('team', {
      env: { PROJECT: 'apollo' },
      provider: {
        name: 'ollama',
        baseUrl: '/upstream/ollama/v1',
        envKey: null,
        wireApi: 'responses',
      },
    });
    // The old top-level keys are aliases: effort goes to both harnesses that read it.
    expect(g).toMatchObject({
      harnessOptions: {
        claude: { effort: 'high', agentTeams: true },
        codex: { effort: 'high', provider: { name: 'ollama', envKey: null } },
      },
      env: { PROJECT: 'apollo' },
    });
    expect(svc.update('team', { provider: null, env: {} })).toMatchObject({
      harnessOptions: { claude: { effort: 'high', agentTeams: true }, codex: { effort: 'high' } },
      env: {},
    });
  });

  it('keeps options per harness, checked by that harness and merged key by key', () => {
    svc.add({ name: 'team', harnessOptions: { claude: { effort: 'low' } } });
    expect(svc.update('team', { harnessOptions: { claude: { agentTeams: true } } })).toMatchObject({
      harnessOptions: { claude: { effort: 'low', agentTeams: true } },
    });
    // null removes one option; a harness set to null loses all of them.
    expect(
      svc.update('team', { harnessOptions: { claude: { effort: null } } }).harnessOptions,
    ).toEqual({ claude: { agentTeams: true } });
    expect(svc.update('team', { harnessOptions: { claude: null } }).harnessOptions).toEqual({});
    // An explicit option wins over the alias for the same harness.
    expect(
      svc.update('team', { effort: 'max', harnessOptions: { codex: { effort: 'low' } } })
        .harnessOptions,
    ).toEqual({ claude: { effort: 'max' }, codex: { effort: 'low' } });
    expect(svc.update('team', { agentTeams: false }).harnessOptions).toEqual({
      claude: { effort: 'max' },
      codex: { effort: 'low' },
    });
  });

  it('refuses an option its harness does not know or a value it does not take, changing nothing', () => {
    svc.add({ name: 'team', effort: 'high' });
    const before = svc.get('team').harnessOptions;
    expect(groupError(() => svc.update('team', { effort: 'extreme' }))).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/^harnessOptions\.claude\.effort: .*"high"/),
    });
    expect(
      groupError(() => svc.update('team', { harnessOptions: { command: { effort: 'high' } } }))
        .message,
    ).toMatch(/^harnessOptions\.command: .*effort/);
    expect(
      groupError(() => svc.update('team', { harnessOptions: { gpt: { x: 1 } } })).message,
    ).toBe('harnessOptions.gpt: no harness "gpt" (have: claude, codex, command)');
    expect(
      groupError(() =>
        svc.add({
          name: 'x',
          provider: { name: 'p', baseUrl: '/u', envKey: '1bad', wireApi: 'responses' },
        }),
      ).message,
    ).toMatch(/^harnessOptions\.codex\.provider\.envKey: an environment variable name/);
    expect(svc.get('team').harnessOptions).toEqual(before);
  });

  it('refuses env that would override what clawpod sets (paths, proxies, credentials)', () => {
    svc.add({ name: 'team' });
    for (const key of [
      'PATH',
      'HOME',
      'HTTPS_PROXY',
      'ANTHROPIC_API_KEY',
      'OPENAI_BASE_URL',
      'CLAWPOD_IPC_DIR',
    ]) {
      expect(groupError(() => svc.update('team', { env: { [key]: 'x' } })).code).toBe('invalid');
    }
    expect(groupError(() => svc.update('team', { env: { 'BAD-NAME': 'x' } })).code).toBe('invalid');
  });

  it('refuses an unknown key with invalid and changes nothing', () => {
    svc.add({ name: 'team', trigger: '@Bot' });
    const err = groupError(() => svc.update('team', { trigger: '@New', bogus: 1 }));
    expect(err.code).toBe('invalid');
    expect(err.message).toContain('bogus');
    expect(svc.get('team').trigger).toBe('@Bot');
  });

  it('refuses a bad value and an unknown group', () => {
    svc.add({ name: 'team' });
    expect(groupError(() => svc.update('team', { runtime: 'vm' })).message).toMatch(/^runtime: /);
    expect(groupError(() => svc.update('team', { limits: { memoryMb: 1 } })).message).toMatch(
      /^limits\.memoryMb: /,
    );
    expect(groupError(() => svc.update('ghost', {})).code).toBe('not_found');
  });
});

describe('GroupService.remove', () => {
  it('refuses to remove main', () => {
    svc.ensureMain();
    const err = groupError(() => svc.remove('main'));
    expect(err.code).toBe('forbidden');
    expect(svc.get('main').isMain).toBe(true);
  });

  it('removes a group and its bindings but keeps its folder', () => {
    svc.add({ name: 'team', chats: ['tg:1'] });
    svc.remove('team');
    expect(groupError(() => svc.get('team')).code).toBe('not_found');
    expect(store.groups.groupForChat('tg:1')).toBeUndefined();
    expect(existsSync(join(paths.groups, 'team', 'CLAUDE.md'))).toBe(true);
    expect(groupError(() => svc.remove('team')).code).toBe('not_found');
  });
});
