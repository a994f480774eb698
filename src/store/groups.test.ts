import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { Store } from './store.js';

let store: Store;
beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

describe('GroupStore', () => {
  it('inserts a group with defaults and reads it back', () => {
    store.groups.insert('team', {}, { now: 10 });
    expect(store.groups.get('team')).toEqual({
      folder: 'team',
      isMain: false,
      trigger: null,
      requiresTrigger: true,
      harness: null,
      command: null,
      runtime: null,
      model: null,
      limits: {},
      senders: null,
      warm: false,
      threadReplies: false,
      env: {},
      harnessOptions: {},
      delegates: [],
      mounts: [],
      createdAt: 10,
      sandboxSlot: 1,
      chats: [],
    });
    expect(store.groups.get('missing')).toBeUndefined();
  });

  it('stores mounts as given (GroupService checks them first) and lists every group’s', () => {
    const app = { name: 'app', hostPath: '/home/a/projects/app', readOnly: false };
    store.groups.insert('coder', { mounts: [app] }, { now: 10 });
    store.groups.insert('main', {}, { now: 11, isMain: true });
    store.groups.update('main', { mounts: [{ ...app, readOnly: true }] });
    expect(store.groups.get('coder')!.mounts).toEqual([app]);
    expect(store.groups.allMounts()).toEqual([
      { group: 'coder', mount: app },
      { group: 'main', mount: { ...app, readOnly: true } },
    ]);
    store.groups.update('coder', { mounts: null });
    expect(store.groups.get('coder')!.mounts).toEqual([]);
    expect(store.groups.allMounts()).toHaveLength(1);
  });

  it('stores the groups a group may delegate to; null clears them', () => {
    store.groups.insert('team', { delegates: ['coder', 'research'] }, { now: 10 });
    expect(store.groups.get('team')!.delegates).toEqual(['coder', 'research']);
    store.groups.update('team', { delegates: null });
    expect(store.groups.get('team')!.delegates).toEqual([]);
  });

  it('gives each group the lowest free sandbox slot, kept while the group exists', () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    store.groups.insert('a', {}, { now: 2 });
    store.groups.insert('b', {}, { now: 3 });
    const slots = () => store.groups.list().map((g) => [g.folder, g.sandboxSlot]);
    expect(slots()).toEqual([
      ['main', 1],
      ['a', 2],
      ['b', 3],
    ]);
    store.groups.remove('a');
    store.groups.update('b', { model: 'm' });
    store.groups.insert('c', {}, { now: 4 });
    store.groups.insert('d', {}, { now: 5 });
    expect(slots()).toEqual([
      ['main', 1],
      ['b', 3],
      ['c', 2],
      ['d', 4],
    ]);
  });

  it('allows only one main group', () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    expect(() => store.groups.insert('main2', {}, { isMain: true, now: 1 })).toThrow(/UNIQUE/);
    expect(store.groups.main()?.folder).toBe('main');
  });

  it('updates only the given settings and merges limits', () => {
    store.groups.insert('team', { trigger: '@Bot', limits: { cpus: 2 } }, { now: 1 });
    store.groups.update('team', { requiresTrigger: false, model: 'm1', limits: { memoryMb: 512 } });
    expect(store.groups.get('team')).toMatchObject({
      trigger: '@Bot',
      requiresTrigger: false,
      model: 'm1',
      limits: { cpus: 2, memoryMb: 512 },
    });
    store.groups.update('team', { trigger: null });
    expect(store.groups.get('team')!.trigger).toBeNull();
  });

  it('binds chats, finds the group of a chat and unbinds', () => {
    store.groups.insert('team', {}, { now: 1 });
    store.groups.bind('tg:1', 'team', 1);
    store.groups.bind('tg:2', 'team', 2);
    expect(store.groups.get('team')!.chats).toEqual(['tg:1', 'tg:2']);
    expect(store.groups.groupForChat('tg:2')?.folder).toBe('team');
    expect(store.groups.unbind('tg:2')).toBe(true);
    expect(store.groups.unbind('tg:2')).toBe(false);
    expect(store.groups.groupForChat('tg:2')).toBeUndefined();
  });

  it('removes a group with its bindings, but never main', () => {
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    store.groups.insert('team', {}, { now: 1 });
    store.groups.bind('tg:1', 'team', 1);
    expect(store.groups.remove('main')).toBe(false);
    expect(store.groups.remove('team')).toBe(true);
    expect(store.groups.get('team')).toBeUndefined();
    expect(store.groups.groupForChat('tg:1')).toBeUndefined();
    expect(store.groups.list().map((g) => g.folder)).toEqual(['main']);
  });

  it('lists main first, then by name', () => {
    store.groups.insert('zeta', {}, { now: 1 });
    store.groups.insert('alpha', {}, { now: 1 });
    store.groups.insert('main', {}, { isMain: true, now: 1 });
    expect(store.groups.list().map((g) => g.folder)).toEqual(['main', 'alpha', 'zeta']);
  });
});
