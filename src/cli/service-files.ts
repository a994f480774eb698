/** What a service definition needs to start `clawpod start`. */
export interface ServiceSpec {
  /** Absolute path of the node binary (a service does not see the login shell's PATH). */
  nodePath: string;
  /** Absolute path of `bin/clawpod`. */
  binPath: string;
  /** Absolute CLAWPOD_HOME. */
  home: string;
  /** Seconds to wait after SIGTERM before a hard kill (covers the daemon's drain). */
  stopTimeoutSec: number;
}

/**
 * Quotes one word for a systemd setting: `"…"` with `\\` and `"` escaped and `%` doubled (so no
 * specifier is expanded); `exec: true` also doubles `$` (ExecStart= expands variables).
 */
export function systemdQuote(word: string, opts: { exec?: boolean } = {}): string {
  let s = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  if (opts.exec) s = s.replace(/\$/g, '$$$$');
  return `"${s}"`;
}

/** The systemd user unit `~/.config/systemd/user/clawpod.service`. Pure. */
export function systemdUnit(spec: ServiceSpec): string {
  const exec = [spec.nodePath, spec.binPath, 'start']
    .map((w) => systemdQuote(w, { exec: true }))
    .join(' ');
  return [
    '# Written by `clawpod service install`; `clawpod service uninstall` removes it.',
    '[Unit]',
    'Description=clawpod: always-on assistant host',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    `Environment=${systemdQuote(`CLAWPOD_HOME=${spec.home}`)}`,
    `WorkingDirectory=${spec.home.replace(/%/g, '%%')}`,
    'Restart=on-failure',
    'RestartSec=5',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${spec.stopTimeoutSec}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The launchd agent label and plist file name (without `.plist`). */
export const launchdLabel = 'dev.clawpod.daemon';

/** The launchd agent `~/Library/LaunchAgents/dev.clawpod.daemon.plist`. Pure. */
export function launchdPlist(spec: ServiceSpec): string {
  const args = [spec.nodePath, spec.binPath, 'start'].map((a) => `    <string>${xml(a)}</string>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${launchdLabel}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    '    <key>CLAWPOD_HOME</key>',
    `    <string>${xml(spec.home)}</string>`,
    '  </dict>',
    '  <key>WorkingDirectory</key>',
    `  <string>${xml(spec.home)}</string>`,
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ExitTimeOut</key>',
    `  <integer>${spec.stopTimeoutSec}</integer>`,
    '  <key>StandardOutPath</key>',
    '  <string>/dev/null</string>',
    '  <key>StandardErrorPath</key>',
    `  <string>${xml(`${spec.home}/logs/service.err.log`)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
