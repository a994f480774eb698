/**
 * Names that are never mounted into a sandbox, matched on whole path components (so `.sshx`
 * is not `.ssh`). A pattern is one or more `/`-separated component globs (`*` any run of
 * characters within the component, `?` one character); `.config/clawpod` matches those two
 * components in a row. Matching is case-insensitive (macOS file systems usually are).
 */

/** Always applied, whatever the allowlist says. */
export const BUILTIN_BLOCKED_PATTERNS: readonly string[] = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.kube',
  '.docker',
  '.config/clawpod',
  '.env',
  '.env.*',
  '.netrc',
  '.git-credentials',
  'id_rsa*',
  'id_dsa*',
  'id_ecdsa*',
  'id_ed25519*',
  '*.pem',
  '*.key',
  'credentials*',
];

/** A compiled pattern: one regex per component. */
export interface BlockedPattern {
  source: string;
  parts: RegExp[];
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/**
 * Compile a component pattern. Returns null for an unusable pattern (empty, absolute, or with
 * an empty / `.` / `..` component); the allowlist schema reports those.
 */
export function compilePattern(source: string): BlockedPattern | null {
  if (!source || source.startsWith('/')) return null;
  const comps = source.split('/');
  if (comps.some((c) => c === '' || c === '.' || c === '..')) return null;
  return { source, parts: comps.map(globToRegExp) };
}

/** Split an absolute path into its components (no empty ones). */
export function components(path: string): string[] {
  return path.split('/').filter(Boolean);
}

/**
 * The first pattern matching a run of consecutive components of `path`, with the matched
 * sub-path, or null. `path` should be absolute and resolved.
 */
export function findBlocked(
  path: string,
  patterns: readonly BlockedPattern[],
): { pattern: string; at: string } | null {
  const comps = components(path);
  for (const p of patterns) {
    const n = p.parts.length;
    for (let i = 0; i + n <= comps.length; i++) {
      if (p.parts.every((re, j) => re.test(comps[i + j] as string))) {
        return { pattern: p.source, at: `/${comps.slice(0, i + n).join('/')}` };
      }
    }
  }
  return null;
}

/** Compile the built-ins plus `extra` (invalid extras are skipped; the schema rejects them). */
export function compileBlocked(extra: readonly string[] = []): BlockedPattern[] {
  return [...BUILTIN_BLOCKED_PATTERNS, ...extra]
    .map(compilePattern)
    .filter((p): p is BlockedPattern => p !== null);
}
