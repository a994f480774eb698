import type { Config } from '../config/load.js';
import { envName } from '../config/secret.js';
import type { ChannelCheck } from './channel.js';

/** A failed check for a secret reference without a value: which variable to set, and where. */
export function missingSecret(
  channel: string,
  key: string,
  ref: string | undefined,
  config: Config,
): ChannelCheck {
  return {
    level: 'fail',
    title: `${channel}: ${key} (${ref ?? 'not set in config.yaml'}) has no value`,
    fix: ref?.startsWith('env:')
      ? `add ${envName(ref)}=… to ${config.paths.envFile} (chmod 600) or the environment`
      : `set ${key}: env:NAME in ${config.paths.configFile} and NAME=… in ${config.paths.envFile}`,
  };
}

/** Rejects after `ms` with `<what>: no answer within <ms> ms` (a check must never hang). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const errorMessage = (err: unknown): string =>
  err instanceof Error ? err.message : String(err);
