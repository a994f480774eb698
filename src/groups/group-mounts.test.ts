import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { dataPaths } from '../config/load.js';
import type { ExtraMountConfig } from '../sandbox/extra-mounts.js';
import { Store } from '../store/store.js';
import { GroupError } from './errors.js';
import { GroupService } from './group-service.js';

const tempDir = useTempDirs('clawpod-gmounts-');

let store: Store;
let svc: GroupService;
let home: string;
let policy: ExtraMountConfig;

const mk = (path: string): string => {
  mkdirSync(path, { recursive: true });
  return path;
};
const allow = (obj: unknown) => {
  mk(dirname(policy.allowlistPath));
  writeFileSync(policy.allowlistPath, JSON.stringify(obj));
};

/** The GroupError `fn` throws (fails the test otherwise). */
function groupError(fn: () => unknown): GroupError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GroupError);
    return err as GroupError;
  }
  throw new Error('expected a GroupError, nothing was thrown');
}

beforeEach(() => {
  home = tempDir();
  const paths = dataPaths(join(home, '.clawpod'));
  policy = {
    dataDir: paths.home,
    allowlistPath: join(home, '.config', 'clawpod', 'mount-allowlist.json'),
    homeDir: home,
    dbPath: paths.db,
  };
  store = Store.open(':memory:');
  svc = new GroupService(store, paths, () => 1_000, policy);
  svc.ensureMain();
  svc.add({ name: 'coder', harness: 'codex' });
  mk(join(home, 'projects', 'app', 'src'));
  mk(join(home, 'projects', 'docs'));
});

describe('groups mount: checked against the allowlist when set', () => {
  it('stores the resolved folder, read-only by default, named after it', () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }], nonMainReadOnly: false });
    const r = svc.mount('coder', { hostPath: '~/projects/app' });
    expect(r.replaced).toBe(false);
    expect(r.group.mounts).toEqual([
      { name: 'app', hostPath: join(home, 'projects', 'app'), readOnly: true },
    ]);
    expect(r.mount).toMatchObject({ sandboxPath: '/workspace/extra/app', mode: 'ro', error: null });
    // Read-write, under another name, replacing the mount of that name.
    const rw = svc.mount('coder', { hostPath: join(home, 'projects', 'app'), readOnly: false });
    expect(rw.replaced).toBe(true);
    expect(rw.mount.mode).toBe('rw');
    expect(svc.get('coder').mounts).toHaveLength(1);
    svc.mount('coder', { hostPath: '~/projects/docs', name: 'ref/docs' });
    expect(svc.get('coder').mounts.map((m) => m.name)).toEqual(['app', 'ref/docs']);
  });

  it('refuses a folder outside every allowed root, naming the path, the rule and the fix', () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    mk(join(home, 'elsewhere', 'repo'));
    const err = groupError(() => svc.mount('coder', { hostPath: '~/elsewhere/repo' }));
    expect(err.code).toBe('forbidden');
    expect(err.message).toContain(
      `${join(home, 'elsewhere', 'repo')} is not under any allowedRoots of ${policy.allowlistPath}`,
    );
    expect(err.message).toContain(`add "~/elsewhere" to allowedRoots in ${policy.allowlistPath}`);
    expect(svc.get('coder').mounts).toEqual([]);
  });

  it('without an allowlist file says how to write one for that folder', () => {
    const err = groupError(() =>
      svc.mount('coder', { hostPath: '~/projects/app', readOnly: false }),
    );
    expect(err.message).toMatch(
      /need a mount allowlist, and there is none at .*mount-allowlist\.json/,
    );
    expect(err.message).toContain('{"allowedRoots":[{"path":"~/projects"');
  });

  it('says when read-write is mounted read-only, and which setting would allow it', () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: false }] });
    const r = svc.mount('coder', { hostPath: '~/projects/app', readOnly: false });
    expect(r.group.mounts[0]!.readOnly).toBe(false); // kept as asked: the allowlist decides
    expect(r.mount.mode).toBe('ro');
    expect(r.mount.notes.join()).toMatch(
      /mounted read-only: its allowed root ~\/projects does not allow read-write \(set "allowReadWrite": true/,
    );
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }] });
    expect(svc.mountStatus('coder')[0]!.notes.join()).toMatch(/"nonMainReadOnly": false/);
    // main is not bound by nonMainReadOnly.
    expect(svc.mount('main', { hostPath: '~/projects/docs', readOnly: false }).mount.mode).toBe(
      'rw',
    );
  });

  it('refuses names with .. or absolute parts, blocked folders and the data dir', () => {
    allow({ allowedRoots: [{ path: '~' }] });
    const app = '~/projects/app';
    for (const [name, why] of [
      ['../escape', /contains '\.\.'/],
      ['/etc', /is absolute/],
      ['a:b', /contains ':'/],
    ] as const) {
      const err = groupError(() => svc.mount('coder', { hostPath: app, name }));
      expect(err.code).toBe('invalid');
      expect(err.message).toMatch(why);
    }
    mk(join(home, '.ssh'));
    expect(
      groupError(() => svc.mount('coder', { hostPath: '~/.ssh', name: 'keys' })).message,
    ).toMatch(/is blocked \(.*\.ssh matches "\.ssh"\)/);
    expect(groupError(() => svc.mount('coder', { hostPath: '~/.clawpod/groups' })).message).toMatch(
      /overlaps clawpod's own state/,
    );
    expect(svc.get('coder').mounts).toEqual([]);
  });

  it('resolves a link once, when granted, and says so', () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    symlinkSync(join(home, 'projects', 'app'), join(home, 'app-link'));
    const r = svc.mount('coder', { hostPath: '~/app-link', name: 'app' });
    expect(r.group.mounts[0]!.hostPath).toBe(join(home, 'projects', 'app'));
    expect(r.notes.join()).toMatch(/resolves to .*projects\/app; that folder is mounted/);
  });

  it('refuses a folder inside another group read-write mount, and the other way round', () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }], nonMainReadOnly: false });
    svc.mount('coder', { hostPath: '~/projects', readOnly: false });
    const inside = groupError(() => svc.mount('main', { hostPath: '~/projects/app' }));
    expect(inside.message).toMatch(
      /lies inside .*projects, which group "coder" mounts read-write \("projects"\)/,
    );
    // The same folder is fine; read-only, the outer one holds nothing to swap.
    svc.mount('main', { hostPath: '~/projects' });
    svc.unmount('coder', 'projects');
    svc.mount('coder', { hostPath: '~/projects/app', readOnly: false });
    const holds = groupError(() => svc.mount('main', { hostPath: '~/projects', readOnly: false }));
    expect(holds.message).toMatch(
      /holds .*projects\/app, which group "coder" mounts \("app"\); with .* read-write this agent could swap folders/,
    );
  });

  it('unmount removes one by name; an unknown name is 404 with the list', () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    svc.mount('coder', { hostPath: '~/projects/app' });
    const err = groupError(() => svc.unmount('coder', 'nope'));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('(mounts: app)');
    expect(svc.unmount('coder', 'app').mounts).toEqual([]);
  });

  it('PATCH mounts replaces the list with the same checks; null clears it', () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    const g = svc.update('coder', {
      mounts: [
        { hostPath: '~/projects/app', name: 'app' },
        { hostPath: '~/projects/docs', name: 'docs', readOnly: true },
      ],
    });
    expect(g.mounts.map((m) => [m.name, m.hostPath])).toEqual([
      ['app', join(home, 'projects', 'app')],
      ['docs', join(home, 'projects', 'docs')],
    ]);
    expect(
      groupError(() =>
        svc.update('coder', {
          mounts: [
            { hostPath: '~/projects/app', name: 'x' },
            { hostPath: '~/projects/docs', name: 'x' },
          ],
        }),
      ).message,
    ).toMatch(/"x" is used twice/);
    expect(
      groupError(() =>
        svc.update('coder', {
          mounts: [
            { hostPath: '~/projects/app', name: 'x' },
            { hostPath: '~/projects/docs', name: 'x/y' },
          ],
        }),
      ).message,
    ).toMatch(/"x" and "x\/y" nest/);
    expect(groupError(() => svc.update('coder', { mounts: [{ hostPath: '/x' }] })).message).toMatch(
      /mounts\.0\.name/,
    );
    expect(svc.update('coder', { mounts: null }).mounts).toEqual([]);
    // A new group may come with its mounts.
    expect(
      svc.add({ name: 'reader', mounts: [{ hostPath: '~/projects/docs', name: 'd' }] }).mounts,
    ).toHaveLength(1);
  });

  it('status shows what the next run gets: refused once the allowlist or the path changed', () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    svc.mount('coder', { hostPath: '~/projects/app' });
    expect(svc.mountStatus('coder')[0]!.mode).toBe('ro');
    allow({ allowedRoots: [{ path: '~/other' }] });
    expect(svc.mountStatus('coder')[0]).toMatchObject({
      mode: 'refused',
      error: expect.stringMatching(/not under any allowedRoots/),
    });
    allow({ allowedRoots: [{ path: '~/projects' }] });
    rmSync(join(home, 'projects', 'app'), { recursive: true });
    mk(join(home, 'projects', 'elsewhere'));
    symlinkSync(join(home, 'projects', 'elsewhere'), join(home, 'projects', 'app'));
    expect(svc.mountStatus('coder')[0]!.error).toMatch(/now resolves to .*elsewhere/);
  });

  it('a service without the mount policy refuses to change mounts', () => {
    const bare = new GroupService(store, dataPaths(join(home, '.clawpod')));
    expect(groupError(() => bare.mount('coder', { hostPath: '~/projects/app' })).message).toMatch(
      /mounts cannot be checked here/,
    );
  });
});
