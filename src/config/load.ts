import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configFileSchema, type ConfigFile } from './schema.js';
import { ConfigError } from './errors.js';
import { readDotenv } from './dotenv.js';

/** Where everything of one clawpod installation lives. */
export interface DataPaths {
  home: string;
  configFile: string;
  envFile: string;
  db: string;
  apiToken: string;
  groups: string;
  ipc: string;
  sessions: string;
  logs: string;
}

/** The validated configuration the daemon and CLI are built from. */
export interface Config {
  paths: DataPaths;
  file: ConfigFile;
  /** IANA zone used for prompt timestamps and schedules. */
  timezone: string;
  /** Process env merged over `$CLAWPOD_HOME/.env` (the process wins). Holds secrets: never log. */
  env: Readonly<Record<string, string>>;
}

export function dataPaths(home: string): DataPaths {
  return {
    home,
    configFile: join(home, 'config.yaml'),
    envFile: join(home, '.env'),
    db: join(home, 'clawpod.db'),
    apiToken: join(home, 'api-token'),
    groups: join(home, 'groups'),
    ipc: join(home, 'ipc'),
    sessions: join(home, 'sessions'),
    logs: join(home, 'logs'),
  };
}

export function resolveHome(env: Record<string, string | undefined>): string {
  return resolve(env.CLAWPOD_HOME || join(homedir(), '.clawpod'));
}

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatIssue(issue: z.core.$ZodIssue): { key: string; expected: string } {
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = key ? `${key}.` : '';
    return {
      key: issue.keys.map((k) => where + k).join(', '),
      expected: `unknown key${issue.keys.length > 1 ? 's' : ''} (remove or fix the spelling)`,
    };
  }
  return { key, expected: issue.message };
}

/** Reads and validates config.yaml; absent file → all defaults. Throws ConfigError. */
export function parseConfigFile(file: string): ConfigFile {
  if (!existsSync(file)) return configFileSchema.parse({});
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, `line ${e.linePos?.[0]?.line ?? '?'}`, `valid YAML (${e.code})`);
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = configFileSchema.safeParse(raw);
  if (!result.success) {
    const { key, expected } = formatIssue(result.error.issues[0]!);
    throw new ConfigError(file, key, expected);
  }
  return result.data;
}

/** Loads the whole configuration for a data dir. Throws ConfigError on any bad input. */
export function loadConfig(processEnv: Record<string, string | undefined> = process.env): Config {
  const home = resolveHome(processEnv);
  const paths = dataPaths(home);
  const dotenv = readDotenv(paths.envFile);
  const env: Record<string, string> = { ...dotenv };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  const file = parseConfigFile(paths.configFile);
  const timezone =
    file.timezone ?? env.TZ ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    const from = file.timezone ? paths.configFile : 'environment';
    throw new ConfigError(
      from,
      file.timezone ? 'timezone' : 'TZ',
      'an IANA time zone such as Europe/Berlin',
    );
  }
  return { paths, file, timezone, env };
}

export { resolveSecret } from './secret.js';
