import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './usage-error.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/** A value as a `.env` line holds it, quoted when it has spaces, `#` or quotes. */
function encode(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new UsageError(`${name}: a value cannot hold a line break`);
  if (!/[\s#"']/.test(value)) return value;
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new UsageError(`${name}: a value cannot hold both kinds of quotes`);
}

/** The variable names a `.env` file sets (never their values). */
export function envFileNames(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (m && !line.trim().startsWith('#')) names.add(m[1]!);
  }
  return [...names];
}

/**
 * Sets (string) or removes (null) variables in a `.env` file, keeping every other line and
 * comment as it was: a set variable replaces its first line in place (later duplicates go),
 * a new one is appended. Written atomically with mode 0600 (the folder made 0700 if missing).
 */
export function updateEnvFile(file: string, changes: Record<string, string | null>): void {
  for (const name of Object.keys(changes))
    if (!NAME.test(name))
      throw new UsageError(`"${name}" is not a variable name (letters, digits and _)`);
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const done = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const name = line.trim().startsWith('#') ? undefined : LINE.exec(line)?.[1];
    if (name === undefined || !(name in changes)) {
      out.push(line);
      continue;
    }
    const value = changes[name];
    if (value === null || done.has(name)) continue;
    out.push(`${name}=${encode(name, value!)}`);
    done.add(name);
  }
  for (const [name, value] of Object.entries(changes))
    if (value !== null && !done.has(name)) out.push(`${name}=${encode(name, value)}`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, out.length ? out.join('\n') + '\n' : '', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
