import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { works } from '../../test/support/host-tools.js';
import { MountUnreachableError } from './errors.js';
import { assertMountsReachable, reachProblem } from './host-access.js';

const root = process.getuid?.() === 0;
const hasSetfacl = works('setfacl', ['--version']);

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'clawpod-ha-'));
  chmodSync(base, 0o755);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('reachProblem', () => {
  it('checks traversal of every ancestor and access to the target by mode bits', () => {
    const dir = join(base, 'a', 'b');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(join(base, 'a'), 0o755);
    expect(reachProblem(dir, 4242, 4242, false)).toBeNull();
    expect(reachProblem(dir, 4242, 4242, true)).toMatch(/not readable and writable by uid 4242/);
    chmodSync(join(base, 'a'), 0o700);
    expect(reachProblem(dir, 4242, 4242, false)).toMatch(
      /a is not traversable by uid 4242 \(mode 0700/,
    );
    expect(reachProblem(join(base, 'missing'), 4242, 4242, false)).toMatch(/does not exist/);
  });

  it('uses owner bits for the owner and group bits for the group', () => {
    const dir = join(base, 'g');
    mkdirSync(dir, { mode: 0o770 });
    chmodSync(dir, 0o770);
    if (process.getuid?.() !== 0) return; // chown needs root
    chownSync(dir, 0, 4343);
    expect(reachProblem(dir, 4242, 4343, true)).toBeNull();
    expect(reachProblem(dir, 4242, 4242, false)).toMatch(/not readable/);
    chownSync(dir, 4242, 0);
    chmodSync(dir, 0o700);
    expect(reachProblem(dir, 4242, 1, true)).toBeNull();
  });

  it('assertMountsReachable throws a typed error that says what to chown', () => {
    const dir = join(base, 'private');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    const m = [{ hostPath: dir, sandboxPath: '/workspace/group', readOnly: false }];
    expect(() => assertMountsReachable(m, 4242, 4242)).toThrow(MountUnreachableError);
    expect(() => assertMountsReachable(m, 4242, 4242)).toThrow(/chown -R 4242:4242/);
  });

  it.skipIf(!root || !hasSetfacl)(
    'lets an ACL grant a host folder to the sandbox uid (the kernel is asked as that uid)',
    () => {
      const home = join(base, 'alice');
      const app = join(home, 'app');
      mkdirSync(app, { recursive: true });
      chmodSync(home, 0o700);
      chmodSync(app, 0o700);
      const m = [{ hostPath: app, sandboxPath: '/workspace/extra/app', readOnly: false }];
      expect(() => assertMountsReachable(m, 4242, 4242)).toThrow(
        /setfacl -m u:4242:x on each folder above .*setfacl -R -m u:4242:rwX,d:u:4242:rwX/,
      );
      execFileSync('setfacl', ['-m', 'u:4242:x', home]);
      execFileSync('setfacl', ['-m', 'u:4242:rx', app]);
      // Read-only now; read-write still refused until the ACL allows writing.
      expect(() => assertMountsReachable([{ ...m[0]!, readOnly: true }], 4242, 4242)).not.toThrow();
      expect(() => assertMountsReachable(m, 4242, 4242)).toThrow(MountUnreachableError);
      execFileSync('setfacl', ['-m', 'u:4242:rwx', app]);
      expect(() => assertMountsReachable(m, 4242, 4242)).not.toThrow();
      expect(() => assertMountsReachable(m, 4343, 4343)).toThrow(MountUnreachableError);
    },
  );
});
