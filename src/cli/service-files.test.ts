import { describe, expect, it } from 'vitest';
import { launchdPlist, systemdQuote, systemdUnit, type ServiceSpec } from './service-files.js';

describe('service files', () => {
  const spec: ServiceSpec = {
    nodePath: '/opt/node 20/bin/node',
    binPath: '/srv/claw$pod/bin/clawpod',
    home: '/home/u/.clawpod 100%',
    stopTimeoutSec: 45,
  };

  it('the systemd unit starts bin/clawpod start with CLAWPOD_HOME, restarts on failure, stops with SIGTERM', () => {
    const unit = systemdUnit(spec);
    expect(unit).toContain(
      'ExecStart="/opt/node 20/bin/node" "/srv/claw$$pod/bin/clawpod" "start"',
    );
    expect(unit).toContain('Environment="CLAWPOD_HOME=/home/u/.clawpod 100%%"');
    expect(unit).toContain('Restart=on-failure');
    expect(unit).toContain('KillSignal=SIGTERM');
    expect(unit).toContain('TimeoutStopSec=45');
    expect(unit).toContain('WantedBy=default.target');
  });

  it('quotes backslashes and double quotes', () => {
    expect(systemdQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('the launchd plist escapes XML', () => {
    const plist = launchdPlist({ ...spec, home: '/Users/a&b' });
    expect(plist).toContain('<string>/Users/a&amp;b</string>');
    expect(plist).toContain('<string>start</string>');
    expect(plist).toContain('<integer>45</integer>');
  });
});
