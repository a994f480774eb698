import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { SANDBOX_ID_DEFAULTS } from '../config/schema.js';
import {
  assertIdRangeFree,
  deprecatedIdKeys,
  idRangeCollisions,
  parseIdDatabase,
  parseSubordinateIds,
  sandboxIdentity,
  SandboxIdRangeError,
  type HostIdFiles,
} from './sandbox-ids.js';

const tempDir = useTempDirs('clawpod-ids-');
const root = { uid: 0, gid: 0 };
const range = { base: 70_000, count: 10_000 };

function hostFiles(content: Partial<Record<keyof HostIdFiles, string>>): HostIdFiles {
  const dir = tempDir();
  const files = {} as HostIdFiles;
  for (const key of ['passwd', 'group', 'subuid', 'subgid'] as const) {
    files[key] = join(dir, key);
    if (content[key] !== undefined) writeFileSync(files[key], content[key]);
  }
  return files;
}

describe('sandboxIdentity', () => {
  it('a root daemon runs each group as uidBase + slot, all sharing gid uidBase', () => {
    expect(sandboxIdentity(range, { folder: 'main', sandboxSlot: 1 }, root)).toEqual({
      uid: 70_001,
      gid: 70_000,
    });
    expect(sandboxIdentity(range, { folder: 'team', sandboxSlot: 2 }, root)).toEqual({
      uid: 70_002,
      gid: 70_000,
    });
  });

  it('a non-root daemon runs every group as itself', () => {
    const me = { uid: 1234, gid: 1235 };
    expect(sandboxIdentity(range, { folder: 'team', sandboxSlot: 7 }, me)).toEqual(me);
  });

  it('refuses a slot outside the range, naming the key to raise', () => {
    const run = () =>
      sandboxIdentity({ base: 70_000, count: 5 }, { folder: 'team', sandboxSlot: 5 }, root);
    expect(run).toThrow(SandboxIdRangeError);
    expect(run).toThrow(/Group "team" has sandbox slot 5.*Raise sandbox.uidCount/);
    expect(() => sandboxIdentity(range, { folder: 'x', sandboxSlot: 0 }, root)).toThrow(
      SandboxIdRangeError,
    );
  });
});

describe('the id range check', () => {
  it('parses passwd/group and subordinate id files, skipping junk', () => {
    expect(
      parseIdDatabase('root:x:0:0::/root:/bin/sh\n# c\nbad\nalice:x:1000:1000::/h:/s\n'),
    ).toEqual([
      { name: 'root', start: 0, count: 1 },
      { name: 'alice', start: 1000, count: 1 },
    ]);
    expect(parseSubordinateIds('alice:100000:65536\nbob:x:1\n')).toEqual([
      { name: 'alice', start: 100_000, count: 65_536 },
    ]);
  });

  it('names every user, group and subordinate range inside the range', () => {
    const files = hostFiles({
      passwd: 'root:x:0:0::/:/bin/sh\nsvc:x:70005:70005::/:/bin/false\nlast:x:79999:1::/:/x\n',
      group: 'grp:x:70000:\nafter:x:80000:\n',
      subuid: 'alice:65536:4464\nbob:75000:65536\n',
      subgid: 'carol:80000:65536\n',
    });
    expect(idRangeCollisions(range, files)).toEqual([
      `user svc (70005) in ${files.passwd}`,
      `user last (79999) in ${files.passwd}`,
      `group grp (70000) in ${files.group}`,
      `subordinate uids of bob (75000-140535) in ${files.subuid}`,
    ]);
    // 65536 + 4465 - 1 = 70000: the first id of the range.
    expect(
      idRangeCollisions({ base: 70_000, count: 1 }, hostFiles({ subuid: 'a:65536:4465\n' })),
    ).toHaveLength(1);
  });

  it('start refuses a colliding range as root, with the keys to change; absent files are empty', () => {
    const files = hostFiles({ passwd: 'nobody:x:65534:65534::/:/x\n' });
    const run = () => assertIdRangeFree({ base: 65_000, count: 1000 }, root, files);
    expect(run).toThrow(SandboxIdRangeError);
    expect(run).toThrow(/65000-65999.*user nobody \(65534\).*Set sandbox.uidBase/);
    expect(() => assertIdRangeFree(range, root, files)).not.toThrow();
    // A non-root daemon never switches uid: nothing to check.
    expect(() =>
      assertIdRangeFree({ base: 65_000, count: 1000 }, { uid: 1000, gid: 1000 }, files),
    ).not.toThrow();
  });

  it('the default range keeps clear of the usual host allocations', () => {
    const first = SANDBOX_ID_DEFAULTS.uidBase;
    const last = first + SANDBOX_ID_DEFAULTS.uidCount - 1;
    const clear = (lo: number, hi: number) => last < lo || first > hi;
    expect(clear(1000, 60_000)).toBe(true); // login.defs UID_MIN-UID_MAX: human accounts
    expect(clear(60_001, 60_513)).toBe(true); // systemd-homed
    expect(clear(61_184, 65_519)).toBe(true); // systemd DynamicUser=
    expect(clear(65_534, 65_535)).toBe(true); // nobody, (uid_t)-1 of 16-bit tools
    expect(clear(100_000, 600_100_000)).toBe(true); // useradd's subordinate ranges
    expect(clear(524_288, 1_879_048_191)).toBe(true); // systemd-nspawn container ranges
  });

  it('warns about the deprecated shared-uid keys when set', () => {
    expect(deprecatedIdKeys({})).toEqual([]);
    expect(deprecatedIdKeys({ uid: 1000, gid: 1000 })[0]).toMatch(
      /sandbox.uid and sandbox.gid are no longer used and ignored.*remove them/,
    );
  });
});
