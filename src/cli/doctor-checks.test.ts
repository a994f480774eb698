import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { dataPaths, type Config } from '../config/load.js';
import { configFileSchema } from '../config/schema.js';
import type { HostIdFiles } from '../sandbox/sandbox-ids.js';
import { checkSandboxIds } from './doctor-checks.js';

const tempDir = useTempDirs('clawpod-doctor-');

function setup(sandbox: Record<string, unknown>, passwd: string) {
  const dir = tempDir();
  const files: HostIdFiles = {
    passwd: join(dir, 'passwd'),
    group: join(dir, 'group'),
    subuid: join(dir, 'subuid'),
    subgid: join(dir, 'subgid'),
  };
  writeFileSync(files.passwd, passwd);
  const config: Config = {
    paths: dataPaths(join(dir, 'home')),
    file: configFileSchema.parse({ sandbox }),
    timezone: 'UTC',
    env: {},
  };
  return { config, files };
}

describe('doctor: sandbox ids', () => {
  const root = { uid: 0, gid: 0 };

  it('passes a free range for a root daemon', () => {
    const { config, files } = setup({}, 'alice:x:1000:1000::/home/alice:/bin/sh\n');
    expect(checkSandboxIds(config, root, files)).toEqual([
      { level: 'ok', title: 'sandbox ids 70000-79999 are free (one uid per group, gid 70000)' },
    ]);
  });

  it('warns when bubblewrap sandboxes could not traverse to the data dir', () => {
    const { config, files } = setup({}, '');
    const parent = join(config.paths.home, '..');
    mkdirSync(config.paths.home, { recursive: true });
    chmodSync(parent, 0o700);
    const results = checkSandboxIds(config, root, files);
    expect(results[1]).toMatchObject({
      level: 'warn',
      title: expect.stringMatching(
        /sandboxes cannot reach the data dir .* is not traversable by uid 70001/,
      ),
    });
    chmodSync(parent, 0o711);
    expect(checkSandboxIds(config, root, files)).toHaveLength(1);
  });

  it('fails a range holding a user, with the key to change', () => {
    const { config, files } = setup({ uidBase: 1000, uidCount: 10 }, 'alice:x:1000:1000::/:/x\n');
    const [r] = checkSandboxIds(config, root, files);
    expect(r).toMatchObject({ level: 'fail', title: expect.stringContaining('user alice (1000)') });
    expect(r!.fix).toMatch(/set sandbox.uidBase \(and sandbox.uidCount\) in .*config.yaml/);
  });

  it('warns a non-root daemon that all groups share its uid, and about deprecated keys', () => {
    const { config, files } = setup({ uid: 1000 }, '');
    const results = checkSandboxIds(config, { uid: 1000, gid: 1000 }, files);
    expect(results.map((r) => r.level)).toEqual(['warn', 'warn']);
    expect(results[0]!.title).toMatch(/sandbox.uid is no longer used/);
    expect(results[1]!.title).toMatch(/sandboxes run as your uid 1000: all groups share/);
    expect(results[1]!.fix).toMatch(/run the daemon as root .* or use runtime podman/);
  });
});
