import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * Parses a `.env` file: `KEY=value` lines, `#` comments, optional `export `, single or double
 * quotes. Returns {} when the file does not exist; a malformed line is a ConfigError naming it.
 */
export function readDotenv(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(file, `line ${i + 1}`, 'KEY=value');
    let value = m[2] ?? '';
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]!] = value;
  });
  return out;
}
