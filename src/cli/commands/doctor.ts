import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError } from '../../config/errors.js';
import { dataPaths, loadConfig, resolveHome, type Config } from '../../config/load.js';
import type { Group } from '../../store/group-schema.js';
import { Store } from '../../store/store.js';
import {
  checkCredentials,
  checkDataDir,
  checkNode,
  checkOwnerIds,
  checkPort,
  checkSandboxIds,
  checkSecretFileMode,
  type CheckResult,
} from '../doctor-checks.js';
import { checkChannels } from '../doctor-channels.js';
import { checkGroupMounts } from '../doctor-mounts.js';
import { checkRuntimes } from '../doctor-runtimes.js';
import { json } from '../format.js';

/** The groups as stored (empty when there is no database yet or it cannot be read). */
function storedGroups(config: Config): Group[] {
  if (!existsSync(config.paths.db)) return [];
  let store: Store | undefined;
  try {
    store = Store.open(config.paths.db);
    return store.groups.list();
  } catch {
    return []; // An unreadable DB is not these checks' business.
  } finally {
    store?.close();
  }
}

/** The harnesses in use: the configured default plus every group's own. */
function harnessesInUse(config: Config, groups: Group[]): Set<string> {
  const used = new Set<string>([config.file.defaults.harness]);
  for (const g of groups) if (g.harness) used.add(g.harness);
  return used;
}

/**
 * Runs every check in order; never throws. `channelTimeoutMs` bounds each live channel check.
 */
export async function runDoctor(
  env: Record<string, string | undefined> = process.env,
  opts: { channelTimeoutMs?: number; liveChannels?: boolean } = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkNode()];
  const home = resolveHome(env);
  results.push(checkDataDir(home));

  let config: Config | undefined;
  try {
    config = loadConfig(env);
    results.push({
      level: 'ok',
      title: existsSync(config.paths.configFile)
        ? `config ${config.paths.configFile} is valid`
        : `no config.yaml in ${home} (defaults apply)`,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const file = err instanceof ConfigError ? err.file : dataPaths(home).configFile;
    results.push({
      level: 'fail',
      title: `configuration: ${message}`,
      fix: `edit ${file} (unknown keys are errors; see the README for the schema)`,
    });
  }

  const paths = config?.paths ?? dataPaths(home);
  const tokenResult = checkSecretFileMode(paths.apiToken, 'API token', {
    level: 'warn',
    title: `API token ${paths.apiToken} does not exist yet`,
    fix: '`clawpod start` creates it with mode 0600',
  });
  if (tokenResult) results.push(tokenResult);
  const envResult = checkSecretFileMode(paths.envFile, 'secrets file', null);
  if (envResult) results.push(envResult);

  if (!config) {
    results.push({
      level: 'warn',
      title: 'runtime, credential, channel and port checks skipped (fix the configuration first)',
      fix: 'run `clawpod doctor` again after fixing config.yaml',
    });
    return results;
  }
  results.push(...(await checkRuntimes(config.file.runtime, config.file.sandbox.image)));
  results.push(...checkSandboxIds(config));
  const groups = storedGroups(config);
  results.push(...checkCredentials(config.env, harnessesInUse(config, groups), paths.envFile));
  results.push(
    ...checkOwnerIds(
      config,
      groups.find((g) => g.isMain),
    ),
  );
  results.push(...checkGroupMounts(config, groups));
  if (opts.liveChannels !== false)
    results.push(...(await checkChannels(config, { timeoutMs: opts.channelTimeoutMs })));
  results.push(await checkPort(config, env));
  return results;
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/** Renders the findings, one line each plus an indented `fix:` line for warnings and failures. */
export function renderDoctor(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.level]} ${r.title}`);
    if (r.level !== 'ok' && r.fix) lines.push(`    fix: ${r.fix}`);
  }
  const fails = results.filter((r) => r.level === 'fail').length;
  const warns = results.filter((r) => r.level === 'warn').length;
  lines.push(
    '',
    fails
      ? `${fails} problem${fails > 1 ? 's' : ''} to fix${warns ? `, ${warns} warning${warns > 1 ? 's' : ''}` : ''}`
      : `all required checks passed${warns ? ` (${warns} warning${warns > 1 ? 's' : ''})` : ''}`,
  );
  return lines.join('\n');
}

/** `clawpod doctor [--json]`: exit 1 when any required check fails. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check node, data dir, config, sandbox runtimes, credentials, group mounts, each configured channel (a live login) and the HTTP port (with a fix for each problem)',
    )
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { json?: boolean }) => {
      const results = await runDoctor();
      console.log(opts.json ? json(results) : renderDoctor(results));
      if (results.some((r) => r.level === 'fail')) process.exitCode = 1;
    });
}
