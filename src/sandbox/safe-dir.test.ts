import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { UnsafePathError } from './errors.js';
import { safeOpenDir } from './safe-dir.js';

const tempDir = useTempDirs('clawpod-safedir-');
let root: string;
let outside: string;
beforeEach(() => {
  const base = tempDir();
  root = join(base, 'ipc', 'team');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'responses'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'shadow'), 'root:$6$secret');
});

describe('safeOpenDir', () => {
  it('refuses a symlinked directory, and names that are paths', async () => {
    symlinkSync(outside, join(root, 'linked'));
    await expect(safeOpenDir(root, 'linked')).rejects.toThrow(/linked is a symlink/);
    const dir = await safeOpenDir(root, 'responses');
    try {
      for (const bad of ['../x', 'a/b', '..', '.', ''])
        await expect(dir.createFile(bad, 'x'), bad).rejects.toThrow(UnsafePathError);
    } finally {
      await dir.close();
    }
    expect(readdirSync(outside)).toEqual(['shadow']);
  });

  it('reads, creates without replacing, lists, lstats and unlinks entries', async () => {
    const dir = await safeOpenDir(root, 'responses');
    try {
      expect(await dir.createFile('a.json', 'one')).toBe('created');
      expect(await dir.createFile('a.json', 'two')).toBe('exists');
      expect((await dir.readFile('a.json')).toString()).toBe('one');
      symlinkSync(join(outside, 'shadow'), join(root, 'responses', 'l.json'));
      await expect(dir.readFile('l.json')).rejects.toThrow(/symlink/);
      expect(await dir.createFile('l.json', 'pwned')).toBe('exists');
      expect((await dir.lstat('l.json')).type).toBe('symlink');
      expect((await dir.list()).map((e) => `${e.name}:${e.type}`).sort()).toEqual([
        'a.json:file',
        'l.json:symlink',
      ]);
      await dir.unlink('l.json');
      expect(readFileSync(join(outside, 'shadow'), 'utf8')).toBe('root:$6$secret');
    } finally {
      await dir.close();
    }
  });

  it('keeps acting on the directory it opened when the sandbox swaps its name for a symlink', async () => {
    const dir = await safeOpenDir(root, 'responses');
    try {
      renameSync(join(root, 'responses'), join(root, 'moved'));
      symlinkSync(outside, join(root, 'responses'));
      expect(await dir.createFile('x.json', 'answer')).toBe('created');
    } finally {
      await dir.close();
    }
    expect(readdirSync(outside)).toEqual(['shadow']);
    expect(existsSync(join(root, 'moved', 'x.json'))).toBe(true);
  });
});
