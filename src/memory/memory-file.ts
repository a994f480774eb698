import { join } from 'node:path';
import { wallTimeAt } from '../schedule/time-zone.js';
import { UnsafePathError } from '../sandbox/errors.js';
import { safeMkdirp, safeReadDir, safeReadFile, safeWriteFile } from '../sandbox/safe-fs.js';
import { MemoryFileError } from './errors.js';
import { unifiedDiff } from './line-diff.js';

export type MemoryFileName = 'CLAUDE.md' | 'AGENTS.md';

/** Longest fact `remember` takes, in characters. */
export const MAX_FACT_CHARS = 1000;
/** Largest memory file read or written, in bytes. */
export const MAX_MEMORY_FILE_BYTES = 256 * 1024;
/** Where previous versions are kept, relative to the group folder. */
export const MEMORY_HISTORY_DIR = 'memory/history';
/** The section `remember` appends to. */
export const REMEMBERED_HEADING = '## Remembered';

/** What `remember` did. */
export type RememberResult =
  | { added: true; file: MemoryFileName; line: string }
  | { added: false; file: MemoryFileName; reason: 'already remembered'; existing: string };

/** What `consolidate` did. `previous` is the kept copy, relative to the group folder. */
export type ConsolidateResult =
  | { changed: false; file: MemoryFileName }
  | {
      changed: true;
      file: MemoryFileName;
      previous: string;
      diff: string;
      linesAdded: number;
      linesRemoved: number;
    };

/**
 * The memory file the group's harness reads: CLAUDE.md for claude (and the command harness);
 * for codex AGENTS.md, or CLAUDE.md when only that exists (Codex falls back to it, and an
 * AGENTS.md written beside it would hide it).
 */
export async function memoryFileName(groupDir: string, harness: string): Promise<MemoryFileName> {
  if (harness !== 'codex') return 'CLAUDE.md';
  const names = new Set((await safeReadDir(groupDir).catch(() => [])).map((e) => e.name));
  return !names.has('AGENTS.md') && names.has('CLAUDE.md') ? 'CLAUDE.md' : 'AGENTS.md';
}

/** A fact as compared for duplicates: case, accents' forms, spacing and end punctuation ignored. */
export function normaliseFact(fact: string): string {
  return fact
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s.!;,]+$/, '')
    .trim();
}

/** A list item of a memory file, without its bullet and a `YYYY-MM-DD: ` date. */
const ITEM = /^\s*[-*+]\s+(?:\d{4}-\d{2}-\d{2}:\s+)?(.*)$/;

/**
 * The group's memory file, changed only through safe-fs: it lives in the sandbox-writable group
 * folder, so a symlink (or a hard link, a FIFO) the agent put in its place is refused, never
 * written through, and no directory on the way is followed. Changes of one group are made one
 * at a time; written files belong to the group folder's owner (the group's sandbox uid).
 */
export class MemoryFiles {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: { groupsDir: string; timezone: string; now: () => number }) {}

  /**
   * Appends `- YYYY-MM-DD: <fact>` to the `## Remembered` section (made at the end when
   * missing), unless a list item of the file already says the same (normalised).
   */
  async remember(group: string, harness: string, fact: string): Promise<RememberResult> {
    const clean = fact.replace(/\s+/g, ' ').trim();
    if (!clean) throw new MemoryFileError('invalid', 'the fact is empty');
    if (clean.length > MAX_FACT_CHARS)
      throw new MemoryFileError(
        'invalid',
        `the fact is ${clean.length} characters long; at most ${MAX_FACT_CHARS} (keep facts short, one per call)`,
      );
    return this.serial(group, async () => {
      const dir = this.dir(group);
      const file = await memoryFileName(dir, harness);
      const current = await this.read(dir, file);
      const wanted = normaliseFact(clean);
      for (const line of current.split('\n')) {
        const item = ITEM.exec(line);
        if (item && normaliseFact(item[1]!) === wanted)
          return { added: false, file, reason: 'already remembered', existing: line.trim() };
      }
      const line = `- ${this.today()}: ${clean}`;
      await this.write(dir, file, appendToSection(current, line));
      return { added: true, file, line };
    });
  }

  /**
   * Replaces the memory file with `content` (the agent's consolidated version): the current
   * version is kept first as `memory/history/<name>-<UTC time>.md`, and the answer carries the
   * unified diff from it.
   */
  async consolidate(group: string, harness: string, content: string): Promise<ConsolidateResult> {
    if (!content.trim())
      throw new MemoryFileError(
        'invalid',
        'the new memory file is empty; refusing to erase it (send the whole consolidated file)',
      );
    if (Buffer.byteLength(content) > MAX_MEMORY_FILE_BYTES)
      throw new MemoryFileError(
        'too_large',
        `the new memory file is larger than ${MAX_MEMORY_FILE_BYTES} bytes; consolidate it further`,
      );
    const text = content.endsWith('\n') ? content : `${content}\n`;
    return this.serial(group, async () => {
      const dir = this.dir(group);
      const file = await memoryFileName(dir, harness);
      const current = await this.read(dir, file);
      if (current === text) return { changed: false, file };
      const stamp = new Date(this.deps.now()).toISOString().replace(/[-:]/g, '');
      const previous = `${MEMORY_HISTORY_DIR}/${file.replace(/\.md$/, '')}-${stamp}.md`;
      await this.guard(async () => {
        await safeMkdirp(dir, MEMORY_HISTORY_DIR, { inheritOwner: true, mode: 0o700 });
        await safeWriteFile(dir, previous, current, { inheritOwner: true, mode: 0o600 });
      }, `${MEMORY_HISTORY_DIR}/`);
      await this.write(dir, file, text);
      const diff = unifiedDiff(current, text, { from: `a/${file}`, to: `b/${file}` });
      const lines = diff.split('\n').slice(2);
      return {
        changed: true,
        file,
        previous,
        diff,
        linesAdded: lines.filter((l) => l.startsWith('+')).length,
        linesRemoved: lines.filter((l) => l.startsWith('-')).length,
      };
    });
  }

  private dir(group: string): string {
    return join(this.deps.groupsDir, group);
  }

  private today(): string {
    const w = wallTimeAt(this.deps.timezone, this.deps.now());
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
  }

  private async read(dir: string, file: MemoryFileName): Promise<string> {
    try {
      const data = await safeReadFile(dir, file, { maxBytes: MAX_MEMORY_FILE_BYTES });
      return data.toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      if (err instanceof UnsafePathError && /larger than/.test(err.message))
        throw new MemoryFileError(
          'too_large',
          `${file} is larger than ${MAX_MEMORY_FILE_BYTES} bytes; consolidate it before adding to it`,
        );
      return this.unsafe(err, file);
    }
  }

  private async write(dir: string, file: MemoryFileName, text: string): Promise<void> {
    await this.guard(
      () => safeWriteFile(dir, file, text, { inheritOwner: true, mode: 0o644 }),
      file,
    );
  }

  private async guard(fn: () => Promise<void>, what: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.unsafe(err, what);
    }
  }

  private unsafe(err: unknown, what: string): never {
    if (err instanceof UnsafePathError)
      throw new MemoryFileError(
        'unsafe_path',
        `${what} in the group folder is a symlink, a hard link or not a regular file or folder; nothing was written. Replace it with a regular one.`,
      );
    throw err;
  }

  /** Runs `fn` after every earlier change of `group` has finished. */
  private serial<T>(group: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(group) ?? Promise.resolve();
    const next = before.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(group, settled);
    void settled.then(() => {
      if (this.locks.get(group) === settled) this.locks.delete(group);
    });
    return next;
  }
}

/** Adds `line` at the end of the `## Remembered` section, or a new section at the end. */
function appendToSection(text: string, line: string): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const head = lines.findIndex((l) => l.trim() === REMEMBERED_HEADING);
  if (head < 0) {
    const gap = lines.length && lines[lines.length - 1]!.trim() !== '' ? [''] : [];
    return [...lines, ...gap, REMEMBERED_HEADING, '', line, ''].join('\n');
  }
  let end = lines.findIndex((l, i) => i > head && /^#{1,2}\s/.test(l));
  if (end < 0) end = lines.length;
  // After the section's last non-empty line.
  let at = end;
  while (at > head + 1 && lines[at - 1]!.trim() === '') at--;
  lines.splice(at, 0, line);
  return lines.join('\n') + '\n';
}
