import {
  fstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_BLOCKED_PATTERNS, compileBlocked, findBlocked } from './blocked-names.js';
import { AllowlistFileError, MountRefusedError } from './errors.js';
import { buildGroupMounts, extraMountTarget, type MountPolicyConfig } from './mount-policy.js';

let base: string;
let home: string;
let cfg: MountPolicyConfig;

function mk(path: string, file?: string): string {
  mkdirSync(file === undefined ? path : dirname(path), { recursive: true });
  if (file !== undefined) writeFileSync(path, file);
  return path;
}

function allow(obj: unknown): void {
  mk(cfg.allowlistPath, JSON.stringify(obj));
}

const req = (extra: { hostPath: string; name: string; readOnly: boolean }[], isMain = false) => ({
  folder: 'team',
  isMain,
  sessionDir: join(cfg.dataDir, 'sessions', 'team'),
  extraMounts: extra,
});

async function refused(hostPath: string, pattern: RegExp, name = 'x'): Promise<void> {
  const p = buildGroupMounts(cfg, req([{ hostPath, name, readOnly: true }]));
  await expect(p).rejects.toThrow(MountRefusedError);
  await expect(p).rejects.toThrow(pattern);
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'clawpod-mp-'));
  home = mk(join(base, 'alice'));
  const dataDir = join(home, '.clawpod');
  for (const d of ['groups/team', 'groups/other', 'groups/global', 'ipc/team', 'sessions/team'])
    mk(join(dataDir, d));
  mk(join(dataDir, 'clawpod.db'), 'db');
  cfg = {
    dataDir,
    homeDir: home,
    allowlistPath: join(home, '.config', 'clawpod', 'mount-allowlist.json'),
  };
  mk(join(home, 'projects', 'site', 'index.html'), '<h1>');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('built-in mounts', () => {
  it('group rw, global ro, ipc rw, session rw for a non-main group', async () => {
    const { mounts, warnings } = await buildGroupMounts(cfg, req([]));
    expect(mounts).toEqual([
      {
        hostPath: join(cfg.dataDir, 'groups/team'),
        sandboxPath: '/workspace/group',
        readOnly: false,
      },
      {
        hostPath: join(cfg.dataDir, 'groups/global'),
        sandboxPath: '/workspace/global',
        readOnly: true,
      },
      { hostPath: join(cfg.dataDir, 'ipc/team'), sandboxPath: '/workspace/ipc', readOnly: false },
      {
        hostPath: join(cfg.dataDir, 'sessions/team'),
        sandboxPath: '/workspace/session',
        readOnly: false,
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('global is rw for main, and skipped with a warning when absent', async () => {
    const main = await buildGroupMounts(cfg, req([], true));
    expect(main.mounts.find((m) => m.sandboxPath === '/workspace/global')?.readOnly).toBe(false);
    rmSync(join(cfg.dataDir, 'groups/global'), { recursive: true });
    const r = await buildGroupMounts(cfg, req([]));
    expect(r.mounts.map((m) => m.sandboxPath)).not.toContain('/workspace/global');
    expect(r.warnings[0]).toMatch(/No global folder/);
  });

  it('refuses bad folder names, symlinked group folders and foreign session dirs', async () => {
    for (const folder of ['../other', 'a/b', 'global', '']) {
      await expect(buildGroupMounts(cfg, { ...req([]), folder })).rejects.toThrow(
        /Invalid group folder/,
      );
    }
    rmSync(join(cfg.dataDir, 'groups/team'), { recursive: true });
    symlinkSync(join(cfg.dataDir, 'groups/other'), join(cfg.dataDir, 'groups/team'));
    await expect(buildGroupMounts(cfg, req([]))).rejects.toThrow(/is not a plain directory/);
    rmSync(join(cfg.dataDir, 'groups/team'));
    mk(join(cfg.dataDir, 'groups/team'));
    await expect(
      buildGroupMounts(cfg, { ...req([]), sessionDir: join(home, 'projects') }),
    ).rejects.toThrow(/outside the data dir/);
  });

  it('refuses an allowlist kept inside the data dir', async () => {
    cfg = { ...cfg, allowlistPath: join(cfg.dataDir, 'mount-allowlist.json') };
    await expect(buildGroupMounts(cfg, req([]))).rejects.toThrow(/inside the data dir/);
  });
});

describe('extra mounts', () => {
  it('mounts an allowlisted folder read-only at /workspace/extra/<name>, resolved', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    symlinkSync(join(home, 'projects', 'site'), join(home, 'site-link'));
    const { mounts } = await buildGroupMounts(
      cfg,
      req([{ hostPath: '~/site-link', name: 'site', readOnly: true }]),
    );
    expect(mounts.at(-1)).toEqual({
      hostPath: join(home, 'projects', 'site'),
      sandboxPath: '/workspace/extra/site',
      readOnly: true,
    });
  });

  it('refuses every extra mount when there is no allowlist file', async () => {
    await refused(
      join(home, 'projects', 'site'),
      /need a mount allowlist, and there is none at .*mount-allowlist\.json.*Create it, e.g. .*"path":"~\/projects"/,
    );
  });

  it('refuses paths outside every allowed root, including via symlink and ..', async () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }] });
    await refused('/etc', /not under any allowedRoots/);
    symlinkSync('/etc', join(home, 'projects', 'etc-link'));
    await refused(join(home, 'projects', 'etc-link'), /not under any allowedRoots/);
    await refused('/etc/../usr', /not under any allowedRoots/);
    await refused(join(home, 'projects', 'site', '..', '..', '..'), /overlaps clawpod's own state/);
    await refused('relative/path', /not absolute/);
    await refused(join(home, 'projects', 'nope'), /does not exist/);
  });

  it('downgrades rw to ro when the root or nonMainReadOnly says so', async () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: false }] });
    const rw = [{ hostPath: '~/projects/site', name: 'site', readOnly: false }];
    let r = await buildGroupMounts(cfg, req(rw, true));
    expect(r.mounts.at(-1)?.readOnly).toBe(true);
    expect(r.warnings.join()).toMatch(/does not allow read-write/);
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }], nonMainReadOnly: true });
    r = await buildGroupMounts(cfg, req(rw, false));
    expect(r.mounts.at(-1)?.readOnly).toBe(true);
    expect(r.warnings.join()).toMatch(/nonMainReadOnly/);
    r = await buildGroupMounts(cfg, req(rw, true));
    expect(r.mounts.at(-1)?.readOnly).toBe(false);
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }], nonMainReadOnly: false });
    r = await buildGroupMounts(cfg, req(rw, false));
    expect(r.mounts.at(-1)?.readOnly).toBe(false);
  });

  it('refuses every built-in blocked name, on exact components, case-insensitively', async () => {
    allow({ allowedRoots: [{ path: '~' }] });
    const dirs = [
      '.ssh',
      '.gnupg',
      '.aws',
      '.azure',
      '.kube',
      '.docker',
      '.config/clawpod',
      '.SSH',
    ];
    const files = [
      '.env',
      '.env.local',
      '.netrc',
      '.git-credentials',
      'id_rsa',
      'id_rsa.pub',
      'id_dsa',
      'id_ecdsa',
      'id_ed25519',
      'id_ed25519.pub',
      'server.pem',
      'tls.key',
      'credentials',
      'credentials.json',
    ];
    for (const d of dirs) {
      const p = mk(join(home, 'vault', d));
      await refused(p, /is blocked/);
      mk(join(p, 'inner', 'file.txt'), 'x');
      await refused(join(p, 'inner'), /is blocked/);
    }
    for (const f of files) await refused(mk(join(home, 'loose', f), 'secret'), /is blocked/);
    // Every built-in pattern was exercised by at least one of the names above.
    for (const pattern of BUILTIN_BLOCKED_PATTERNS) {
      const compiled = compileBlocked().filter((c) => c.source === pattern);
      const hit = [...dirs, ...files].some((n) => findBlocked(`/x/${n}`, compiled));
      expect(hit, pattern).toBe(true);
    }
    // Not blocked: similar but different components.
    allow({ allowedRoots: [{ path: '~/ok' }] });
    for (const okName of ['.sshx', 'my.env', 'keys.txt', 'pem', 'env']) {
      const p = mk(join(home, 'ok', okName));
      const r = await buildGroupMounts(cfg, req([{ hostPath: p, name: 'x', readOnly: true }]));
      expect(r.mounts.at(-1)?.hostPath).toBe(p);
    }
  });

  it('refuses a symlink that leads into a blocked directory', async () => {
    allow({ allowedRoots: [{ path: '~' }] });
    mk(join(home, '.ssh', 'id_x'), 'k');
    symlinkSync(join(home, '.ssh'), join(home, 'projects', 'innocent'));
    await refused(join(home, 'projects', 'innocent'), /\.ssh matches "\.ssh"/);
    await refused(join(home, 'projects', '..', '.ssh'), /is blocked/);
  });

  it('refuses a directory holding a blocked name at its top level (e.g. the whole home)', async () => {
    allow({ allowedRoots: [{ path: '~' }] });
    mk(join(home, 'projects', 'withenv', '.env'), 'TOKEN=1');
    await refused(join(home, 'projects', 'withenv'), /contains .*\.env/);
    mk(join(home, '.config', 'clawpod', 'x'), 'y');
    mk(join(home, 'dotfiles', '.config', 'clawpod', 'x'), 'y');
    await refused(join(home, 'dotfiles'), /contains \.config\/clawpod/);
  });

  it('applies the allowlist blockedPatterns too', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }], blockedPatterns: ['secrets', '*.sqlite'] });
    await refused(mk(join(home, 'projects', 'secrets')), /matches "secrets"/);
    await refused(mk(join(home, 'projects', 'app.sqlite'), 'x'), /matches "\*\.sqlite"/);
  });

  it('refuses the data dir, the database, the allowlist file and anything containing them', async () => {
    const allowlistPath = join(home, 'cp-conf', 'allow.json');
    cfg = { ...cfg, allowlistPath };
    allow({ allowedRoots: [{ path: '~' }, { path: base }] });
    await refused(cfg.dataDir, /overlaps clawpod's own state/);
    await refused(join(cfg.dataDir, 'clawpod.db'), /overlaps/);
    await refused(join(cfg.dataDir, 'groups', 'other'), /overlaps/);
    await refused(allowlistPath, /overlaps/);
    await refused(join(home, 'cp-conf'), /overlaps/);
    await refused(base, /overlaps/);
  });

  it('validates sandbox names: relative, no .., no colon, no absolute', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    const ok = join(home, 'projects', 'site');
    for (const [name, why] of [
      ['/etc', /is absolute/],
      ['../escape', /contains '\.\.'/],
      ['a/../../b', /contains '\.\.'/],
      ['a:b', /contains ':'/],
      ['', /empty/],
      ['.', /not allowed/],
      ['a//b', /not allowed/],
      ['a b', /not allowed/],
    ] as const) {
      await refused(ok, why, name);
    }
    expect(extraMountTarget('repos/site')).toBe('/workspace/extra/repos/site');
    const dup = [
      { hostPath: ok, name: 'same', readOnly: true },
      { hostPath: ok, name: 'same', readOnly: true },
    ];
    await expect(buildGroupMounts(cfg, req(dup))).rejects.toThrow(/used twice/);
  });

  it('reports a malformed allowlist with the file and the key', async () => {
    const cases: [string, RegExp][] = [
      ['{ not json', /mount-allowlist\.json: not valid JSON/],
      [
        '{"allowedRoots":[{"path":"~/p","allowReadWrite":"yes"}]}',
        /key "allowedRoots\.0\.allowReadWrite"/,
      ],
      ['{"allowedRoots":[{"path":"relative"}]}', /key "allowedRoots\.0\.path".*absolute/],
      ['{"allowedRoot":[]}', /key "allowedRoot": unknown key/],
      ['{"allowedRoots":[{"path":"/x","rw":true}]}', /key "allowedRoots\.0\.rw": unknown key/],
      ['{"blockedPatterns":["/abs"]}', /key "blockedPatterns\.0"/],
      ['{"nonMainReadOnly":"no"}', /key "nonMainReadOnly"/],
    ];
    for (const [text, pattern] of cases) {
      mk(cfg.allowlistPath, text);
      const p = buildGroupMounts(
        cfg,
        req([{ hostPath: join(home, 'projects'), name: 'p', readOnly: true }]),
      );
      await expect(p).rejects.toThrow(AllowlistFileError);
      await expect(p).rejects.toThrow(pattern);
    }
  });
});

describe('extra mounts of a group setting (granted, checked again at each run)', () => {
  const granted = (
    extra: { hostPath: string; name: string; readOnly: boolean }[],
    more: Partial<Parameters<typeof buildGroupMounts>[1]> = {},
  ) => ({ ...req(extra), granted: true, ...more });

  it('refuses a granted path on which a folder became a symlink, even into an allowed root', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    const app = mk(join(home, 'projects', 'team', 'app'));
    mk(join(home, 'projects', 'other', 'app'));
    const mount = [{ hostPath: app, name: 'app', readOnly: true }];
    expect((await buildGroupMounts(cfg, granted(mount))).mounts.at(-1)?.hostPath).toBe(app);
    // Someone swaps a parent folder for a link to another place under the same allowed root.
    rmSync(join(home, 'projects', 'team'), { recursive: true });
    symlinkSync(join(home, 'projects', 'other'), join(home, 'projects', 'team'));
    const p = buildGroupMounts(cfg, granted(mount));
    await expect(p).rejects.toThrow(MountRefusedError);
    await expect(p).rejects.toThrow(
      /now resolves to .*projects\/other\/app: a folder on that path was replaced by a symlink since the mount was granted/,
    );
  });

  it('refuses a folder inside a read-write mount of any group, not the same folder', async () => {
    allow({ allowedRoots: [{ path: '~/projects', allowReadWrite: true }] });
    const projects = join(home, 'projects');
    const site = join(projects, 'site');
    const writable = [{ group: 'coder', name: 'projects', hostPath: projects }];
    const p = buildGroupMounts(
      cfg,
      granted([{ hostPath: site, name: 'site', readOnly: true }], { writable }),
    );
    await expect(p).rejects.toThrow(
      /lies inside .*projects, which group "coder" mounts read-write \("projects"\).*swap folders/,
    );
    // The very folder another group writes is fine: its agent cannot replace the folder itself.
    const same = await buildGroupMounts(
      cfg,
      granted([{ hostPath: projects, name: 'p', readOnly: true }], { writable }),
    );
    expect(same.mounts.at(-1)?.hostPath).toBe(projects);
  });

  it('refuses names that nest, and a file instead of a folder', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    const site = join(home, 'projects', 'site');
    const nested = [
      { hostPath: site, name: 'repos', readOnly: true },
      { hostPath: join(home, 'projects'), name: 'repos/site', readOnly: true },
    ];
    await expect(buildGroupMounts(cfg, req(nested))).rejects.toThrow(
      /"repos" and "repos\/site" nest/,
    );
    await refused(join(site, 'index.html'), /is not a folder/);
  });

  it('holds each folder open for bubblewrap: the descriptor is the checked folder', async () => {
    allow({ allowedRoots: [{ path: '~/projects' }] });
    const site = join(home, 'projects', 'site');
    const r = await buildGroupMounts(
      cfg,
      granted([{ hostPath: site, name: 'site', readOnly: true }], { holdDescriptors: true }),
    );
    const fd = r.mounts.at(-1)?.fd;
    expect(fd).toEqual(expect.any(Number));
    expect(fstatSync(fd!).ino).toBe(statSync(site).ino);
    expect(r.extras).toEqual([
      { name: 'site', hostPath: site, sandboxPath: '/workspace/extra/site', readOnly: true },
    ]);
    await r.close();
  });
});
