import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  utimesSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafePathError } from './errors.js';
import {
  forceLstatWalkForTests,
  safeCreateFile,
  safeLstat,
  safeMkdirp,
  safeReadDir,
  safeReadDirStat,
  safeReadFile,
  safeReadLink,
  safeRemoveTree,
  safeRename,
  safeUnlink,
  safeWriteFile,
  splitRelative,
} from './safe-fs.js';

let base: string;
let root: string; // a group/IPC dir the sandbox controls
let outside: string; // what the host must never touch through root

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'clawpod-sfs-'));
  root = join(base, 'ipc', 'team');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'requests'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'shadow'), 'root:$6$secret');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const unsafe = async (p: Promise<unknown>, pattern: RegExp) => {
  await expect(p).rejects.toThrow(UnsafePathError);
  await expect(p).rejects.toThrow(pattern);
};

describe('relative path validation', () => {
  it('refuses absolute, empty, . and .. components', () => {
    for (const bad of ['/etc/shadow', '', 'a/../b', '..', './a', 'a//b', 'a/', 'a\0b']) {
      expect(() => splitRelative(bad), bad).toThrow(UnsafePathError);
    }
    expect(splitRelative('requests/1.json')).toEqual(['requests', '1.json']);
  });
});

describe.each([
  ['openat walk via /proc/self/fd', false],
  ['portable lstat walk', true],
])('%s', (_mode, lstatWalk) => {
  beforeEach(() => forceLstatWalkForTests(lstatWalk));
  afterEach(() => forceLstatWalkForTests(false));

  describe('safeReadFile', () => {
    it('reads a regular file', async () => {
      writeFileSync(join(root, 'requests', 'a.json'), '{"ok":1}');
      expect((await safeReadFile(root, 'requests/a.json')).toString()).toBe('{"ok":1}');
    });

    it('refuses a planted symlink to a secret file', async () => {
      symlinkSync(join(outside, 'shadow'), join(root, 'requests', 'evil.json'));
      await unsafe(safeReadFile(root, 'requests/evil.json'), /symlink/);
    });

    it('refuses a symlinked parent directory', async () => {
      symlinkSync(outside, join(root, 'linked'));
      await unsafe(safeReadFile(root, 'linked/shadow'), /linked is a symlink/);
    });

    it('refuses a FIFO without blocking, and a hard link', async () => {
      execFileSync('mkfifo', [join(root, 'requests', 'pipe.json')]);
      await unsafe(safeReadFile(root, 'requests/pipe.json'), /not a regular file/);
      linkSync(join(outside, 'shadow'), join(root, 'requests', 'hard.json'));
      await unsafe(safeReadFile(root, 'requests/hard.json'), /hard links/);
    });

    it('refuses files above the size cap and traversal', async () => {
      writeFileSync(join(root, 'big'), Buffer.alloc(2048));
      await unsafe(safeReadFile(root, 'big', { maxBytes: 1024 }), /larger than 1024/);
      await unsafe(safeReadFile(root, '../../outside/shadow'), /"\.\."/);
      await unsafe(safeReadFile(root, join(outside, 'shadow')), /absolute/);
    });
  });

  describe('safeWriteFile', () => {
    it('writes atomically and leaves no temp files', async () => {
      await safeWriteFile(root, 'requests/r.json', '{"id":1}');
      expect(readFileSync(join(root, 'requests', 'r.json'), 'utf8')).toBe('{"id":1}');
      expect(readdirSync(join(root, 'requests'))).toEqual(['r.json']);
    });

    it('replaces a planted symlink instead of writing through it', async () => {
      symlinkSync(join(outside, 'shadow'), join(root, 'requests', 'r.json'));
      await safeWriteFile(root, 'requests/r.json', 'response');
      expect(readFileSync(join(outside, 'shadow'), 'utf8')).toBe('root:$6$secret');
      expect(lstatSync(join(root, 'requests', 'r.json')).isFile()).toBe(true);
    });

    it('refuses to write below a symlinked directory', async () => {
      symlinkSync(outside, join(root, 'responses'));
      await unsafe(safeWriteFile(root, 'responses/x.json', 'pwned'), /responses is a symlink/);
      expect(readdirSync(outside)).toEqual(['shadow']);
    });
  });

  describe('safeRename, safeUnlink, safeReadDir, safeMkdirp', () => {
    it('moves a file within root', async () => {
      writeFileSync(join(root, 'requests', 'bad.json'), '{');
      mkdirSync(join(root, 'errors'));
      await safeRename(root, 'requests/bad.json', 'errors/bad.json');
      expect(existsSync(join(root, 'errors', 'bad.json'))).toBe(true);
    });

    it('refuses a symlinked destination dir and a symlink source', async () => {
      writeFileSync(join(root, 'requests', 'bad.json'), '{');
      symlinkSync(outside, join(root, 'errors'));
      await unsafe(safeRename(root, 'requests/bad.json', 'errors/bad.json'), /errors is a symlink/);
      expect(readdirSync(outside)).toEqual(['shadow']);
      symlinkSync(join(outside, 'shadow'), join(root, 'requests', 'l.json'));
      await unsafe(safeRename(root, 'requests/l.json', 'requests/m.json'), /symlink/);
    });

    it('unlinks a planted symlink itself, never its target', async () => {
      symlinkSync(join(outside, 'shadow'), join(root, 'requests', 'l.json'));
      await safeUnlink(root, 'requests/l.json');
      expect(existsSync(join(outside, 'shadow'))).toBe(true);
      expect(readdirSync(join(root, 'requests'))).toEqual([]);
    });

    it('lists entries with their real types, refusing symlinked dirs', async () => {
      writeFileSync(join(root, 'requests', 'a.json'), '{}');
      symlinkSync(outside, join(root, 'requests', 'l'));
      const entries = await safeReadDir(root, 'requests');
      expect(entries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'a.json', type: 'file' },
        { name: 'l', type: 'symlink' },
      ]);
      await unsafe(safeReadDir(root, 'requests/l'), /symlink/);
      expect((await safeReadDir(root)).map((e) => e.name)).toEqual(['requests']);
    });

    it('creates with the mode asked for, whatever the process umask', async () => {
      const previous = process.umask(0o077);
      try {
        await safeWriteFile(root, 'requests/r.json', '{}');
        await safeWriteFile(root, 'requests/s.json', '{}', { mode: 0o640 });
        await safeMkdirp(root, 'shared/deeper');
      } finally {
        process.umask(previous);
      }
      const mode = (rel: string) => lstatSync(join(root, rel)).mode & 0o777;
      expect(mode('requests/r.json')).toBe(0o644);
      expect(mode('requests/s.json')).toBe(0o640);
      expect(mode('shared')).toBe(0o755);
      expect(mode('shared/deeper')).toBe(0o755);
    });

    it.skipIf(process.getuid?.() !== 0)(
      "inheritOwner gives new files and every directory of the path root's owner",
      async () => {
        execFileSync('chown', ['-R', '70123:70100', root]);
        mkdirSync(join(root, 'old')); // a directory the host made earlier, still root's
        await safeMkdirp(root, 'old/new', { inheritOwner: true });
        await safeWriteFile(root, 'old/new/a.bin', 'data', { inheritOwner: true });
        for (const rel of ['old', 'old/new', 'old/new/a.bin']) {
          const st = lstatSync(join(root, rel));
          expect([st.uid, st.gid], rel).toEqual([70123, 70100]);
        }
        // Without the option the host's own ownership stays.
        await safeWriteFile(root, 'old/plain.txt', 'x');
        expect(lstatSync(join(root, 'old/plain.txt')).uid).toBe(0);
      },
    );

    it('creates nested dirs and refuses a symlinked component', async () => {
      await safeMkdirp(root, 'tasks/done');
      expect(lstatSync(join(root, 'tasks', 'done')).isDirectory()).toBe(true);
      symlinkSync(outside, join(root, 'evil'));
      await unsafe(safeMkdirp(root, 'evil/sub'), /evil is a symlink/);
      expect(readdirSync(outside)).toEqual(['shadow']);
    });
  });
  describe('safeCreateFile', () => {
    it('creates a file whole and leaves no temp file', async () => {
      expect(await safeCreateFile(root, 'requests/r.json', '{"id":1}')).toBe('created');
      expect(readFileSync(join(root, 'requests', 'r.json'), 'utf8')).toBe('{"id":1}');
      expect(lstatSync(join(root, 'requests', 'r.json')).nlink).toBe(1);
      expect(readdirSync(join(root, 'requests'))).toEqual(['r.json']);
    });

    it('never replaces what has the name: a file, a symlink (dangling or not), a directory', async () => {
      const req = (n: string) => join(root, 'requests', n);
      writeFileSync(req('file.json'), 'first answer');
      symlinkSync(join(outside, 'shadow'), req('link.json'));
      symlinkSync(join(outside, 'nothing-here'), req('dangling.json'));
      mkdirSync(req('dir.json'));
      for (const n of ['file.json', 'link.json', 'dangling.json', 'dir.json'])
        expect(await safeCreateFile(root, `requests/${n}`, 'second'), n).toBe('exists');
      expect(readFileSync(req('file.json'), 'utf8')).toBe('first answer');
      expect(readFileSync(join(outside, 'shadow'), 'utf8')).toBe('root:$6$secret');
      expect(existsSync(join(outside, 'nothing-here'))).toBe(false);
      expect(readdirSync(req('dir.json'))).toEqual([]);
      expect(readdirSync(join(root, 'requests')).sort()).toEqual(
        ['dangling.json', 'dir.json', 'file.json', 'link.json'].sort(),
      );
    });

    it('refuses to create below a symlinked directory', async () => {
      symlinkSync(outside, join(root, 'responses'));
      await unsafe(safeCreateFile(root, 'responses/x.json', 'pwned'), /responses is a symlink/);
      expect(readdirSync(outside)).toEqual(['shadow']);
    });
  });

  describe('safeLstat, safeReadLink, safeReadDirStat', () => {
    it('describes a symlink itself, with its target text, never following it', async () => {
      symlinkSync(join(outside, 'shadow'), join(root, 'requests', 'l'));
      expect(await safeLstat(root, 'requests/l')).toMatchObject({ name: 'l', type: 'symlink' });
      expect(await safeReadLink(root, 'requests/l')).toBe(join(outside, 'shadow'));
      symlinkSync(outside, join(root, 'linked'));
      await unsafe(safeLstat(root, 'linked/shadow'), /linked is a symlink/);
    });

    it('lists entries with type, size and mtime', async () => {
      writeFileSync(join(root, 'requests', 'a.json'), '12345');
      utimesSync(join(root, 'requests', 'a.json'), 1000, 1000);
      mkdirSync(join(root, 'requests', 'd'));
      const entries = await safeReadDirStat(root, 'requests');
      expect(entries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'a.json', type: 'file', size: 5, mtimeMs: 1_000_000 },
        expect.objectContaining({ name: 'd', type: 'dir' }),
      ]);
    });
  });

  describe('safeRemoveTree', () => {
    it('removes a tree, unlinking the symlinks in it without following them', async () => {
      const t = join(root, 'errors', 'junk');
      mkdirSync(join(t, 'a', 'b'), { recursive: true });
      writeFileSync(join(t, 'a', 'b', 'f'), 'x');
      symlinkSync(outside, join(t, 'a', 'to-outside'));
      symlinkSync(join(outside, 'shadow'), join(t, 'to-shadow'));
      await safeRemoveTree(root, 'errors/junk');
      expect(readdirSync(join(root, 'errors'))).toEqual([]);
      expect(readdirSync(outside)).toEqual(['shadow']);
      expect(readFileSync(join(outside, 'shadow'), 'utf8')).toBe('root:$6$secret');
      writeFileSync(join(root, 'errors', 'plain'), 'x');
      await safeRemoveTree(root, 'errors/plain');
      expect(readdirSync(join(root, 'errors'))).toEqual([]);
    });

    it('refuses a symlinked parent and a tree deeper than its limit', async () => {
      symlinkSync(outside, join(root, 'linked'));
      await unsafe(safeRemoveTree(root, 'linked/shadow'), /linked is a symlink/);
      expect(readdirSync(outside)).toEqual(['shadow']);
      mkdirSync(join(root, 'deep', 'a', 'b', 'c'), { recursive: true });
      await unsafe(safeRemoveTree(root, 'deep', 3), /nested too deeply/); // 4 levels
      await safeRemoveTree(root, 'deep', 4);
      expect(existsSync(join(root, 'deep'))).toBe(false);
    });
  });
});
