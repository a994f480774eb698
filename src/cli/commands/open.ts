import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ApiClient } from '../api-client.js';

/** The command that opens a URL in the desktop's browser here, or undefined (no desktop). */
export function browserOpener(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (env.CLAWPOD_NO_BROWSER) return undefined;
  if (platform === 'darwin') return 'open';
  if (platform !== 'linux' && platform !== 'freebsd') return undefined;
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .some((d) => d && existsSync(join(d, 'xdg-open')));
  return onPath ? 'xdg-open' : undefined;
}

/** Hands `url` to the browser; resolves false when the opener could not be started. */
function launch(opener: string, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/**
 * `clawpod open [--print]`: the Control UI's link with its token (`http://…/#token=…`), opened
 * in the browser when there is a desktop, printed otherwise (or with `--print`). The token
 * travels in the URL fragment, which the browser never sends to a server.
 */
export function registerOpen(program: Command): void {
  program
    .command('open')
    .description(
      'open the Control UI in the browser (prints the link with its token where there is none)',
    )
    .option('--print', 'only print the link')
    .action(async (opts: { print?: boolean }) => {
      const config = loadConfig();
      const client = ApiClient.fromConfig(config);
      if (!(await client.probe())) {
        console.error(
          `clawpod is not running at ${client.baseUrl}: start it with \`clawpod start\` (or \`clawpod service install\`), then run \`clawpod open\` again`,
        );
        process.exitCode = 1;
        return;
      }
      const link = client.dashboardUrl();
      const opener = opts.print ? undefined : browserOpener();
      if (opener && (await launch(opener, link))) {
        console.log(`opened the Control UI in your browser (${client.baseUrl}/)`);
        return;
      }
      console.log(link);
    });
}
