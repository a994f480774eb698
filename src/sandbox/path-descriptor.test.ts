import { fstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { canHoldDirectories, holdDirectory, PathWalkError } from './path-descriptor.js';

const tempDir = useTempDirs('clawpod-hold-');

async function walkError(path: string): Promise<PathWalkError> {
  try {
    const held = await holdDirectory(path);
    await held.close();
  } catch (err) {
    expect(err).toBeInstanceOf(PathWalkError);
    return err as PathWalkError;
  }
  throw new Error(`expected holdDirectory(${path}) to fail`);
}

describe.skipIf(!canHoldDirectories())('holdDirectory', () => {
  it('holds the folder itself', async () => {
    const dir = join(tempDir(), 'a', 'b');
    mkdirSync(dir, { recursive: true });
    const held = await holdDirectory(dir);
    try {
      expect(fstatSync(held.fd).ino).toBe(statSync(dir).ino);
    } finally {
      await held.close();
    }
  });

  it('refuses a symlink at any component, naming it, and anything not a folder', async () => {
    const base = tempDir();
    mkdirSync(join(base, 'real', 'inner'), { recursive: true });
    symlinkSync(join(base, 'real'), join(base, 'link'));
    let err = await walkError(join(base, 'link', 'inner'));
    expect([err.problem, err.at]).toEqual(['symlink', join(base, 'link')]);
    err = await walkError(join(base, 'link'));
    expect(err.problem).toBe('symlink');
    writeFileSync(join(base, 'file'), 'x');
    expect((await walkError(join(base, 'file'))).problem).toBe('not-directory');
    expect((await walkError(join(base, 'gone', 'x'))).problem).toBe('missing');
    expect((await walkError(`${base}/real/../real`)).problem).toBe('not-directory');
  });
});
