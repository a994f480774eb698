import { Option, type Command } from 'commander';
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../config/load.js';
import { launchdLabel, launchdPlist, systemdUnit, type ServiceSpec } from '../service-files.js';

type Platform = 'linux' | 'darwin';

interface ServiceTarget {
  file: string;
  content: string;
  /** Commands the user runs after installing. */
  afterInstall: string[];
  /** Commands the user runs after uninstalling. */
  afterUninstall: string[];
  /** Extra files `uninstall` removes (an enable symlink). */
  extra: string[];
}

function platformOf(value: string | undefined): Platform {
  const p = value ?? process.platform;
  if (p === 'linux' || p === 'darwin') return p;
  throw new Error(
    `clawpod service supports Linux (systemd) and macOS (launchd), not ${p}; run \`clawpod start\` under your own supervisor`,
  );
}

/** The service definition for this installation and platform. */
function target(config: Config, platform: Platform): ServiceTarget {
  const spec: ServiceSpec = {
    nodePath: process.execPath,
    // dist/cli/commands/service.js → <repo>/bin/clawpod
    binPath: fileURLToPath(new URL('../../../bin/clawpod', import.meta.url)),
    home: resolve(config.paths.home),
    stopTimeoutSec: Math.ceil(config.file.shutdownTimeoutMs / 1000) + 15,
  };
  if (platform === 'linux') {
    const dir = join(homedir(), '.config', 'systemd', 'user');
    return {
      file: join(dir, 'clawpod.service'),
      content: systemdUnit(spec),
      afterInstall: [
        'systemctl --user daemon-reload && systemctl --user enable --now clawpod',
        'loginctl enable-linger $USER   # optional: keep it running while you are logged out',
      ],
      afterUninstall: ['systemctl --user stop clawpod; systemctl --user daemon-reload'],
      extra: [join(dir, 'default.target.wants', 'clawpod.service')],
    };
  }
  const file = join(homedir(), 'Library', 'LaunchAgents', `${launchdLabel}.plist`);
  return {
    file,
    content: launchdPlist(spec),
    afterInstall: [`launchctl bootstrap gui/$(id -u) ${file}`],
    afterUninstall: [`launchctl bootout gui/$(id -u)/${launchdLabel}`],
    extra: [],
  };
}

/**
 * Writes the service file for this installation (or, with `dryRun`, only says what it would
 * write) and returns the lines to show: what was written and the commands that enable it.
 */
export function installService(
  config: Config,
  opts: { dryRun?: boolean; platform?: string } = {},
): string[] {
  const t = target(config, platformOf(opts.platform));
  if (opts.dryRun)
    return [`# would write ${t.file}:\n${t.content}`, `# then run:\n${t.afterInstall.join('\n')}`];
  const existed = existsSync(t.file);
  mkdirSync(dirname(t.file), { recursive: true });
  mkdirSync(join(config.paths.home, 'logs'), { recursive: true, mode: 0o700 });
  writeFileSync(t.file, t.content, { mode: 0o644 });
  return [
    `${existed ? 'updated' : 'wrote'} ${t.file}`,
    `the service does not see your shell's environment: put API keys in ${config.paths.envFile} (chmod 600)`,
    `now run:\n  ${t.afterInstall.join('\n  ')}`,
  ];
}

const platformOption = () =>
  new Option('--platform <platform>', 'linux or darwin (default: this machine)')
    .choices(['linux', 'darwin'])
    .hideHelp();

/** `clawpod service install|uninstall [--dry-run]`: a systemd user unit or a launchd agent. */
export function registerService(program: Command): void {
  const service = program
    .command('service')
    .description('run clawpod as a systemd user service (Linux) or launchd agent (macOS)');

  service
    .command('install')
    .description('write the service file and print the command that enables it')
    .option('--dry-run', 'print the file instead of writing it')
    .addOption(platformOption())
    .action((opts: { dryRun?: boolean; platform?: string }) => {
      console.log(installService(loadConfig(), opts).join('\n'));
    });

  service
    .command('uninstall')
    .description('remove the service file and print the command that stops the service')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .addOption(platformOption())
    .action((opts: { dryRun?: boolean; platform?: string }) => {
      const config = loadConfig();
      const t = target(config, platformOf(opts.platform));
      // The enable symlink goes too (what `systemctl disable` would remove), but only if it is ours.
      const links = t.extra.filter((f) => {
        try {
          return lstatSync(f).isSymbolicLink() && resolve(dirname(f), readlinkSync(f)) === t.file;
        } catch {
          return false;
        }
      });
      const files = [...(existsSync(t.file) ? [t.file] : []), ...links];
      if (!files.length) {
        console.log(`no service file at ${t.file}; nothing to remove`);
        return;
      }
      for (const f of files) {
        if (opts.dryRun) console.log(`would remove ${f}`);
        else {
          rmSync(f, { force: true });
          console.log(`removed ${f}`);
        }
      }
      console.log(`${opts.dryRun ? 'then' : 'now'} run:\n  ${t.afterUninstall.join('\n  ')}`);
    });
}
