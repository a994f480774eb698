import type { Command } from 'commander';
import { DAEMON_UMASK } from '../../config/data-dir.js';
import { loadConfig } from '../../config/load.js';
import { Daemon } from '../../daemon.js';
import { createLogger } from '../../logging/logger.js';
import { loadLauncherModule } from '../../runs/launcher-module.js';
import { join } from 'node:path';
import { ApiClient } from '../api-client.js';
import { runDoctor } from './doctor.js';
import { removeDaemonAddress, urlFor, writeDaemonAddress } from '../daemon-address.js';
import { missingModelKeys } from '../start-notices.js';

/** `clawpod start`: the daemon in the foreground; SIGTERM/SIGINT drain and stop. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the daemon in the foreground (SIGTERM/SIGINT drain and stop)')
    .option('--port <port>', 'HTTP port (overrides config; 0 picks a free one)')
    .action(async (opts: { port?: string }) => {
      // Whatever the daemon or a library creates (db, logs, state) is private by default.
      process.umask(DAEMON_UMASK);
      const config = loadConfig();
      if (opts.port !== undefined) config.file.http.port = Number(opts.port);
      const log = createLogger({
        file: join(config.paths.logs, 'clawpod.log'),
        pretty: Boolean(process.stdout.isTTY),
        stdoutJson: !process.stdout.isTTY,
        level: config.env.CLAWPOD_LOG_LEVEL ?? 'info',
      });
      const launchers = await loadLauncherModule(config.env.CLAWPOD_LAUNCHER_MODULE);
      if (launchers.length)
        log.warn(
          { module: config.env.CLAWPOD_LAUNCHER_MODULE },
          'extra launchers loaded from CLAWPOD_LAUNCHER_MODULE',
        );
      const daemon = new Daemon({
        config,
        log,
        launchers,
        // The live channels are the daemon's own: the API's doctor leaves them to `status`.
        doctor: () => runDoctor(process.env, { liveChannels: false }),
      });
      let stopping: Promise<void> | undefined;
      const stop = (signal: string) => {
        if (stopping) return;
        log.info({ signal }, 'stopping: no new turns; running turns may finish');
        stopping = daemon.stop().then(
          () => {
            removeDaemonAddress(config.paths.home, process.pid);
            process.exit(0);
          },
          (err: unknown) => {
            log.error({ err }, 'error while stopping');
            removeDaemonAddress(config.paths.home, process.pid);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('unhandledRejection', (err) =>
        log.error({ err }, 'unhandled rejection (daemon keeps running)'),
      );
      await daemon.start();
      // The CLI finds this daemon wherever it listens (`--port`, `http.port: 0`).
      writeDaemonAddress(config.paths.home, {
        url: urlFor(config.file.http.host, daemon.port),
        pid: process.pid,
        startedAt: Date.now(),
      });
      for (const n of missingModelKeys(config, daemon.store.groups.list()))
        log.warn({ harness: n.harness, groups: n.groups }, n.message);
      // The link carries the API token: shown on the terminal that started the daemon, never
      // written to a log (a service's output is a log; there `clawpod open` prints it).
      const link = ApiClient.fromConfig(config).dashboardUrlAt(daemon.port);
      if (process.stdout.isTTY) console.log(`\n  Control UI: ${link}\n`);
      else log.info('Control UI: run `clawpod open` for the link with its token');
    });
}
