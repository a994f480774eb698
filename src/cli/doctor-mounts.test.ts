import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { loadConfig } from '../config/load.js';
import { GroupService } from '../groups/group-service.js';
import { mountPolicyFor } from '../groups/group-mounts.js';
import { Store } from '../store/store.js';
import { checkGroupMounts } from './doctor-mounts.js';

const tempDir = useTempDirs('clawpod-doctor-mounts-');

describe('clawpod doctor: group mounts', () => {
  it('fails a refused mount with the fix, warns on rw kept ro, lists the good ones', () => {
    const user = tempDir();
    const home = join(user, 'data');
    mkdirSync(home);
    const allowlist = join(user, 'allow.json');
    const allow = (rw: boolean) =>
      writeFileSync(
        allowlist,
        JSON.stringify({ allowedRoots: [{ path: join(user, 'projects'), allowReadWrite: rw }] }),
      );
    writeFileSync(
      join(home, 'config.yaml'),
      `sandbox: { allowlistPath: ${JSON.stringify(allowlist)} }\n`,
    );
    const config = loadConfig({ CLAWPOD_HOME: home });
    mkdirSync(join(user, 'projects', 'app'), { recursive: true });
    mkdirSync(join(user, 'projects', 'docs'));
    allow(true);
    const store = Store.open(':memory:');
    const groups = new GroupService(store, config.paths, Date.now, mountPolicyFor(config, user));
    groups.ensureMain();
    groups.add({ name: 'coder' });
    expect(checkGroupMounts(config, groups.list(), user)).toEqual([]);
    groups.mount('main', { hostPath: join(user, 'projects', 'app'), readOnly: false });
    groups.mount('coder', { hostPath: join(user, 'projects', 'docs') });
    expect(checkGroupMounts(config, groups.list(), user)).toEqual([
      { level: 'ok', title: 'group main: /workspace/extra/app (rw)' },
      { level: 'ok', title: 'group coder: /workspace/extra/docs (ro)' },
    ]);
    allow(false);
    expect(checkGroupMounts(config, groups.list(), user)[0]).toMatchObject({
      level: 'warn',
      title: 'group main: mount "app" is read-only, read-write was asked',
      fix: expect.stringContaining('"allowReadWrite": true'),
    });
    writeFileSync(allowlist, JSON.stringify({ allowedRoots: [] }));
    const fail = checkGroupMounts(config, groups.list(), user).find((r) => r.level === 'fail');
    expect(fail?.title).toMatch(
      /group main: mount "app" .* is refused, so its runs fail: .*not under any allowedRoots/,
    );
    expect(fail?.fix).toContain('clawpod groups unmount main app');
    store.close();
  });
});
