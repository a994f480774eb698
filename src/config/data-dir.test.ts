import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { secureDataDir } from './data-dir.js';
import { dataPaths } from './load.js';

const tempDir = useTempDirs('clawpod-datadir-');
const mode = (p: string) => lstatSync(p).mode & 0o7777;

describe('secureDataDir', () => {
  it('makes the data dir, its dirs, its files and everything in logs/ private', () => {
    const home = join(tempDir(), 'home');
    const paths = dataPaths(home);
    mkdirSync(join(paths.logs, 'old'), { recursive: true, mode: 0o755 });
    for (const d of [paths.groups, join(home, 'channels'), join(home, 'credentials')]) {
      mkdirSync(d, { mode: 0o755 });
    }
    const files = [
      paths.db,
      `${paths.db}-wal`,
      `${paths.db}-shm`,
      paths.configFile,
      paths.envFile,
      paths.apiToken,
      join(paths.logs, 'clawpod.log'),
      join(paths.logs, 'old', 'clawpod.1.log'),
    ];
    for (const f of files) writeFileSync(f, 'messages and secrets', { mode: 0o644 });
    chmodSync(home, 0o711);

    secureDataDir(paths);

    expect(mode(home)).toBe(0o700);
    for (const d of [paths.logs, join(paths.logs, 'old'), paths.groups, join(home, 'channels')]) {
      expect(mode(d), d).toBe(0o700);
    }
    for (const f of files) expect(mode(f), f).toBe(0o600);
  });

  it('never follows a symlink out of the data dir', () => {
    const base = tempDir();
    const home = join(base, 'home');
    const paths = dataPaths(home);
    mkdirSync(paths.logs, { recursive: true });
    const outside = join(base, 'outside.txt');
    writeFileSync(outside, 'not ours', { mode: 0o644 });
    symlinkSync(outside, join(home, 'link.txt'));
    symlinkSync(outside, join(paths.logs, 'link.log'));
    secureDataDir(paths);
    expect(statSync(outside).mode & 0o777).toBe(0o644);
  });

  it('reports a file it cannot change instead of failing the start', (ctx) => {
    const home = join(tempDir(), 'home');
    const paths = dataPaths(home);
    mkdirSync(home, { recursive: true });
    writeFileSync(paths.configFile, 'x', { mode: 0o644 });
    writeFileSync(paths.envFile, 'x', { mode: 0o644 });
    // An immutable file refuses chmod even to root (as another user's file does to a non-root daemon).
    try {
      execFileSync('chattr', ['+i', paths.configFile], { stdio: 'ignore' });
    } catch {
      return ctx.skip('no chattr +i here: nothing to simulate a foreign file with');
    }
    try {
      const problems = secureDataDir(paths);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/config\.yaml could not be made private \(mode 0600\): EPERM/);
      expect(mode(paths.envFile)).toBe(0o600); // the rest was still done
    } finally {
      execFileSync('chattr', ['-i', paths.configFile]);
    }
  });
});
