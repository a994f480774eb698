import { z } from 'zod';

// A leaf module (zod only): channel settings blocks import it, and config/schema.ts composes
// those blocks, so nothing here may import the rest of config/.

/** A secret reference: `env:NAME` reads the variable at load time; plain strings are refused. */
export const secretRef = z
  .string()
  .regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'a secret reference of the form env:NAME');

/** Resolves an `env:NAME` reference; undefined when the variable is unset or empty. */
export function resolveSecret(
  ref: string | undefined,
  env: Readonly<Record<string, string>>,
): string | undefined {
  if (!ref?.startsWith('env:')) return undefined;
  const name = ref.slice('env:'.length);
  const value = env[name];
  return value ? value : undefined;
}

/** The variable an `env:NAME` reference names. */
export const envName = (ref: string | undefined): string => (ref ?? '').replace(/^env:/, '');
