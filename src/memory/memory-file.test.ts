import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { MemoryFileError } from './errors.js';
import { MemoryFiles, memoryFileName, normaliseFact } from './memory-file.js';

const tempDir = useTempDirs('clawpod-memory-');
const NOW = Date.UTC(2026, 4, 1, 22, 30); // 2026-05-02 00:30 in Berlin

function setup(memory?: string) {
  const groups = tempDir();
  mkdirSync(join(groups, 'team'));
  if (memory !== undefined) writeFileSync(join(groups, 'team', 'CLAUDE.md'), memory);
  const files = new MemoryFiles({ groupsDir: groups, timezone: 'Europe/Berlin', now: () => NOW });
  const read = (name = 'CLAUDE.md') => readFileSync(join(groups, 'team', name), 'utf8');
  return { groups, dir: join(groups, 'team'), files, read };
}

describe('remember', () => {
  it('appends a dated fact under "## Remembered", made at the end when missing', async () => {
    const { files, read } = setup('# Team\n\nBe brief.\n');
    expect(
      await files.remember('team', 'claude', '  Alice prefers\nmeetings after 10:00 '),
    ).toEqual({
      added: true,
      file: 'CLAUDE.md',
      line: '- 2026-05-02: Alice prefers meetings after 10:00',
    });
    await files.remember('team', 'claude', 'Bob is on leave in June');
    expect(read()).toBe(
      '# Team\n\nBe brief.\n\n## Remembered\n\n' +
        '- 2026-05-02: Alice prefers meetings after 10:00\n' +
        '- 2026-05-02: Bob is on leave in June\n',
    );
  });

  it('adds to the end of an existing section, before the next heading', async () => {
    const { files, read } = setup('## Remembered\n\n- 2026-01-01: one\n\n## People\n\n- Carol\n');
    await files.remember('team', 'claude', 'two');
    expect(read()).toBe(
      '## Remembered\n\n- 2026-01-01: one\n- 2026-05-02: two\n\n## People\n\n- Carol\n',
    );
  });

  it('does not add the same fact twice (case, spacing, final dot and date ignored)', async () => {
    const { files, read } = setup('## People\n\n* alice prefers TEA\n');
    const again = await files.remember('team', 'claude', 'Alice prefers tea.');
    expect(again).toEqual({
      added: false,
      file: 'CLAUDE.md',
      reason: 'already remembered',
      existing: '* alice prefers TEA',
    });
    await files.remember('team', 'claude', 'Dave likes jazz');
    expect((await files.remember('team', 'claude', 'dave   likes jazz!')).added).toBe(false);
    expect(read().match(/jazz/g)).toHaveLength(1);
    expect(normaliseFact(' Ünïcode  ﬁ. ')).toBe('ünïcode fi');
  });

  it('serialises concurrent calls: every fact lands once', async () => {
    const { files, read } = setup('');
    await Promise.all(
      ['a1', 'a2', 'a3', 'a1', 'a4'].map((f) => files.remember('team', 'claude', `fact ${f}`)),
    );
    expect(read().match(/fact a\d/g)).toEqual(['fact a1', 'fact a2', 'fact a3', 'fact a4']);
  });

  it('creates the memory file when there is none', async () => {
    const { files, read } = setup();
    await files.remember('team', 'claude', 'first fact');
    expect(read()).toBe('## Remembered\n\n- 2026-05-02: first fact\n');
  });

  it('refuses empty and over-long facts', async () => {
    const { files } = setup('');
    await expect(files.remember('team', 'claude', ' \n ')).rejects.toThrow(/empty/);
    await expect(files.remember('team', 'claude', 'x'.repeat(1001))).rejects.toThrow(
      /at most 1000/,
    );
  });

  it('never writes through a symlink or a hard link put in place of the memory file', async () => {
    const { groups, dir, files } = setup();
    const host = join(groups, 'host-file.txt');
    writeFileSync(host, 'host secret\n');
    symlinkSync(host, join(dir, 'CLAUDE.md'));
    const err = await files.remember('team', 'claude', 'pwned').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemoryFileError);
    expect((err as MemoryFileError).code).toBe('unsafe_path');
    expect((err as Error).message).not.toContain(groups); // no host path goes back to the agent
    expect(readFileSync(host, 'utf8')).toBe('host secret\n');
    expect(lstatSync(join(dir, 'CLAUDE.md')).isSymbolicLink()).toBe(true);

    const { groups: g2, dir: d2, files: f2 } = setup();
    const other = join(g2, 'other.txt');
    writeFileSync(other, 'x\n');
    linkSync(other, join(d2, 'CLAUDE.md'));
    await expect(f2.remember('team', 'claude', 'pwned')).rejects.toThrow(/hard link/);
    expect(readFileSync(other, 'utf8')).toBe('x\n');
  });
});

describe('memoryFileName', () => {
  it('claude and command use CLAUDE.md; codex AGENTS.md unless only CLAUDE.md exists', async () => {
    const { dir } = setup();
    expect(await memoryFileName(dir, 'claude')).toBe('CLAUDE.md');
    expect(await memoryFileName(dir, 'command')).toBe('CLAUDE.md');
    expect(await memoryFileName(dir, 'codex')).toBe('AGENTS.md');
    writeFileSync(join(dir, 'CLAUDE.md'), '');
    expect(await memoryFileName(dir, 'codex')).toBe('CLAUDE.md');
    writeFileSync(join(dir, 'AGENTS.md'), '');
    expect(await memoryFileName(dir, 'codex')).toBe('AGENTS.md');
  });

  it('a codex group remembers in AGENTS.md', async () => {
    const { files, dir, read } = setup();
    writeFileSync(join(dir, 'AGENTS.md'), '# Agents\n');
    expect((await files.remember('team', 'codex', 'uses codex')).file).toBe('AGENTS.md');
    expect(read('AGENTS.md')).toContain('- 2026-05-02: uses codex');
    expect(existsSync(join(dir, 'CLAUDE.md'))).toBe(false);
  });
});

describe('consolidate', () => {
  it('keeps the previous version in memory/history/ and answers the diff', async () => {
    const before = '# Memory\n- likes tea\n- likes tea.\n- lives in Berlin\n';
    const { files, dir, read } = setup(before);
    const res = await files.consolidate(
      'team',
      'claude',
      '# Memory\n- likes tea\n- lives in Berlin',
    );
    expect(res).toMatchObject({
      changed: true,
      file: 'CLAUDE.md',
      previous: 'memory/history/CLAUDE-20260501T223000.000Z.md',
      linesAdded: 0,
      linesRemoved: 1,
    });
    expect(res.changed && res.diff).toContain('\n-- likes tea.\n');
    expect(read()).toBe('# Memory\n- likes tea\n- lives in Berlin\n');
    expect(readdirSync(join(dir, 'memory', 'history'))).toEqual(['CLAUDE-20260501T223000.000Z.md']);
    expect(readFileSync(join(dir, 'memory/history/CLAUDE-20260501T223000.000Z.md'), 'utf8')).toBe(
      before,
    );
  });

  it('changes nothing when the content is the same, and refuses to erase the file', async () => {
    const { files, dir } = setup('# Memory\n');
    expect(await files.consolidate('team', 'claude', '# Memory\n')).toEqual({
      changed: false,
      file: 'CLAUDE.md',
    });
    expect(existsSync(join(dir, 'memory'))).toBe(false);
    await expect(files.consolidate('team', 'claude', '  \n')).rejects.toThrow(/refusing to erase/);
  });

  it('refuses a planted memory/ symlink and writes nothing outside the folder', async () => {
    const { groups, dir, files, read } = setup('# Memory\n- a\n');
    const outside = join(groups, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(dir, 'memory'));
    await expect(files.consolidate('team', 'claude', '# Memory\n')).rejects.toThrow(
      /memory\/history\/ in the group folder/,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(read()).toBe('# Memory\n- a\n'); // not changed without its copy kept
  });
});
