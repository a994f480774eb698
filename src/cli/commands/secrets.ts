import type { Command } from 'commander';
import { isCancel, password } from '@clack/prompts';
import { loadConfig } from '../../config/load.js';
import { ApiClient } from '../api-client.js';
import { envFileNames, updateEnvFile } from '../env-file.js';
import { json, table } from '../format.js';
import { UsageError } from '../usage-error.js';

/** Variables clawpod itself reads, listed even when unset. */
const KNOWN = ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'OPENAI_API_KEY'] as const;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The value: typed hidden at a terminal, else read from stdin (never from the command line). */
async function readValue(name: string): Promise<string> {
  if (process.stdin.isTTY) {
    const v = await password({ message: `Value of ${name}` });
    if (isCancel(v)) throw new UsageError('cancelled; nothing stored');
    return v;
  }
  return readStdin();
}

async function restartHint(): Promise<string> {
  const running = await ApiClient.fromConfig(loadConfig()).probe(1000);
  return running
    ? 'restart the daemon to use it (Ctrl-C and `clawpod start`, or `systemctl --user restart clawpod`)'
    : '`clawpod start` uses it';
}

/** `clawpod secrets list|set|unset`: the `$CLAWPOD_HOME/.env` file (0600), names only shown. */
export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('model keys and channel tokens in $CLAWPOD_HOME/.env (values never shown)');

  secrets
    .command('list', { isDefault: true })
    .description('which variables are set, and where (values are never printed)')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const config = loadConfig();
      const inFile = new Set(envFileNames(config.paths.envFile));
      const names = [...new Set([...KNOWN, ...inFile])];
      const rows = names.map((name) => ({
        name,
        where: process.env[name]
          ? 'environment (wins over .env)'
          : inFile.has(name)
            ? '.env'
            : 'not set',
      }));
      console.log(
        opts.json
          ? json(rows)
          : `${table(
              ['NAME', 'SET IN'],
              rows.map((r) => [r.name, r.where]),
            )}\n\nfile: ${config.paths.envFile}`,
      );
    });

  secrets
    .command('set <name>')
    .description('store a variable: typed hidden at a terminal, or piped on stdin')
    .action(async (name: string) => {
      const config = loadConfig();
      const value = (await readValue(name)).trim();
      if (!value) throw new UsageError(`no value given for ${name}; nothing stored`);
      updateEnvFile(config.paths.envFile, { [name]: value });
      console.log(`stored ${name} in ${config.paths.envFile} (mode 0600); ${await restartHint()}`);
    });

  secrets
    .command('unset <name>')
    .alias('rm')
    .description('remove a variable from the .env file')
    .action(async (name: string) => {
      const config = loadConfig();
      if (!envFileNames(config.paths.envFile).includes(name))
        throw new UsageError(`${name} is not in ${config.paths.envFile}`);
      updateEnvFile(config.paths.envFile, { [name]: null });
      console.log(`removed ${name} from ${config.paths.envFile}; ${await restartHint()}`);
    });
}
