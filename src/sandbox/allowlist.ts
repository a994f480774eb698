/**
 * The mount allowlist file (default ~/.config/clawpod/mount-allowlist.json; outside the data
 * dir and never mounted). It says which host roots extra mounts may come from:
 *
 *   { "allowedRoots": [{ "path": "~/projects", "allowReadWrite": false }],
 *     "blockedPatterns": ["secrets", "*.sqlite"],
 *     "nonMainReadOnly": true }
 *
 * A missing file means no extra mounts at all. A malformed one is an error naming the file
 * and the key, never silently ignored.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { compilePattern } from './blocked-names.js';
import { AllowlistFileError } from './errors.js';

/** Default location of the allowlist, given the owner's home directory. */
export function defaultAllowlistPath(homeDir: string): string {
  return join(homeDir, '.config', 'clawpod', 'mount-allowlist.json');
}

/** zod schema of the allowlist file. Unknown keys are errors. */
export const allowlistSchema = z
  .object({
    allowedRoots: z
      .array(
        z
          .object({
            path: z
              .string()
              .min(1)
              .refine((p) => p.startsWith('/') || p === '~' || p.startsWith('~/'), {
                message: 'must be an absolute path or start with ~/',
              }),
            allowReadWrite: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    blockedPatterns: z
      .array(
        z.string().refine((p) => compilePattern(p) !== null, {
          message:
            'must be a relative name glob such as "secrets" or "*.sqlite" (no leading /, no empty, . or .. parts)',
        }),
      )
      .default([]),
    nonMainReadOnly: z.boolean().default(true),
  })
  .strict();

/** The parsed allowlist (defaults applied). */
export type Allowlist = z.infer<typeof allowlistSchema>;

/** Parse allowlist JSON text; `file` is only used in error messages. */
export function parseAllowlist(text: string, file: string): Allowlist {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AllowlistFileError(file, null, `not valid JSON (${(e as Error).message})`);
  }
  const r = allowlistSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new AllowlistFileError(file, null, 'invalid');
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    const key = [...path, keys[0] ?? '?'].join('.');
    return fail(
      file,
      key,
      'unknown key (allowed: allowedRoots, blockedPatterns, nonMainReadOnly; roots take path, allowReadWrite)',
    );
  }
  return fail(file, path.join('.') || null, issue.message);
}

function fail(file: string, key: string | null, detail: string): never {
  throw new AllowlistFileError(file, key, detail);
}

/** Read and parse the allowlist; null when the file does not exist. */
export async function loadAllowlist(file: string): Promise<Allowlist | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AllowlistFileError(file, null, `cannot be read (${(e as Error).message})`);
  }
  return parseAllowlist(text, file);
}
