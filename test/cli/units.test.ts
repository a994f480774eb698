import { describe, expect, it } from 'vitest';
import { completeLines } from '../../src/cli/commands/logs.js';
import { renderStatus } from '../../src/cli/commands/status.js';
import { formatDuration, table } from '../../src/cli/format.js';
import { parseGroupSettings } from '../../src/cli/group-settings.js';
import { formatLogLine } from '../../src/cli/log-format.js';
import {
  launchdPlist,
  systemdQuote,
  systemdUnit,
  type ServiceSpec,
} from '../../src/cli/service-files.js';
import { UsageError } from '../../src/cli/usage-error.js';
import type { DaemonStatus } from '../../src/status.js';

describe('parseGroupSettings', () => {
  it('reads harness settings: effort, agent teams, env entries, JSON senders and provider', () => {
    expect(
      parseGroupSettings([
        'effort=high',
        'agent_teams=true',
        'env.PROJECT=apollo',
        'env.OLD=null',
        'senders={"allow":["tg:1"],"others":"drop"}',
        'provider=null',
      ]),
    ).toEqual({
      effort: 'high',
      agentTeams: true,
      envPatch: { PROJECT: 'apollo', OLD: null },
      senders: { allow: ['tg:1'], others: 'drop' },
      provider: null,
    });
    expect(() => parseGroupSettings(['senders={nope'])).toThrow(/JSON/);
  });

  it('reads delegates as a comma list or a JSON array; null clears it', () => {
    expect(parseGroupSettings(['delegates=coder, research'])).toEqual({
      delegates: ['coder', 'research'],
    });
    expect(parseGroupSettings(['delegates=["coder"]'])).toEqual({ delegates: ['coder'] });
    expect(parseGroupSettings(['delegates=null'])).toEqual({ delegates: null });
  });

  it('reads <harness>.<option> as JSON when it is JSON, else as text', () => {
    expect(
      parseGroupSettings([
        'claude.effort=high',
        'claude.agentTeams=true',
        'codex.provider={"name":"x"}',
        'codex.effort=null',
      ]),
    ).toEqual({
      harnessOptions: {
        claude: { effort: 'high', agentTeams: true },
        codex: { provider: { name: 'x' }, effort: null },
      },
    });
    expect(() => parseGroupSettings(['claude.=x'])).toThrow(UsageError);
    expect(() => parseGroupSettings(['gpt.effort=x'])).toThrow(/unknown setting "gpt.effort"/);
  });

  it('maps keys, aliases, booleans, numbers and null', () => {
    expect(
      parseGroupSettings([
        'trigger=@Bob',
        'requiresTrigger=FALSE',
        'command=echo a=b',
        'limits.cpus=0.5',
        'limits.pids=null',
        'model=null',
      ]),
    ).toEqual({
      trigger: '@Bob',
      requiresTrigger: false,
      command: 'echo a=b',
      model: null,
      limits: { cpus: 0.5, pids: undefined },
    });
    expect(parseGroupSettings(['requires_trigger=true'])).toEqual({ requiresTrigger: true });
  });

  it('throws UsageError for syntax problems', () => {
    for (const bad of [
      [],
      ['x'],
      ['=1'],
      ['nope=1'],
      ['requires_trigger=yes'],
      ['limits.memoryMb='],
      ['limits.memoryMb=lots'],
    ]) {
      expect(() => parseGroupSettings(bad), bad.join(' ')).toThrow(UsageError);
    }
  });
});

describe('formatLogLine', () => {
  it('shows time, level, part, message and context, hiding pid', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 2, 1, 8, 30, 5, 42),
      pid: 9,
      part: 'runs',
      msg: 'run failed',
      run: 'run_1',
      group: 'ops',
      err: { type: 'Error', message: 'boom now', stack: '...' },
      n: 3,
    });
    expect(formatLogLine(line)).toBe(
      '2026-03-01 08:30:05.042 ERROR [runs] run failed group=ops run=run_1 err="boom now" n=3',
    );
  });

  it('passes non-JSON lines through', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });
});

describe('completeLines', () => {
  it('keeps a trailing partial line for later and can drop a cut first line', () => {
    expect(completeLines('a\nb\npart', 10, false)).toEqual({ lines: ['a', 'b'], next: 14 });
    expect(completeLines('cut\nb\n', 0, true)).toEqual({ lines: ['b'], next: 6 });
    expect(completeLines('no newline', 3, false)).toEqual({ lines: [], next: 3 });
    expect(completeLines('é\n', 0, false).next).toBe(3);
  });
});

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

describe('formatting', () => {
  it('durations and tables', () => {
    expect(formatDuration(450)).toBe('450ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(125_000)).toBe('2m 05s');
    expect(formatDuration(null)).toBe('-');
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1');
  });

  it('renderStatus of a running daemon shows the dashboard link, channels, dead letters and runs', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    const status: DaemonStatus = {
      daemon: { running: true, pid: 42, version: '0.1.0', startedAt: now - 60_000, home: '/h' },
      runtime: { configured: 'auto', selected: 'bubblewrap', why: 'found bwrap' },
      harnesses: ['claude'],
      channels: [{ name: 'telegram', connected: false, lastError: 'bad token', lastEventAt: null }],
      groups: [{ name: 'main', isMain: true, chats: ['web:main'], pendingMessages: 2 }],
      sessions: [],
      queue: { running: 1, waiting: 0, pending: 2, backoff: 1 },
      outbox: { pending: 1, sending: 0, sent: 5, dead: 1 },
      deadLetters: {
        count: 1,
        recent: [
          {
            id: 1,
            kind: 'outbox',
            group: 'main',
            chatId: 'telegram:1',
            ref: 'k',
            seqStart: null,
            seqEnd: null,
            error: 'chat not found',
            createdAt: now,
            status: 'pending',
            decidedAt: null,
          },
        ],
      },
      runs: {
        byStatus: { ok: 1 },
        recent: [
          {
            id: 'run_1',
            group: 'main',
            kind: 'message',
            taskId: null,
            replyTo: null,
            sessionId: null,
            parentRunId: null,
            billedTo: [],
            chatId: 'web:main',
            seqStart: 1,
            seqEnd: 1,
            attempt: 1,
            status: 'ok',
            startedAt: now - 2000,
            endedAt: now,
            error: null,
            usage: { inputTokens: 1500, outputTokens: 20, costUsd: 0.01 },
            taint: [],
            skipped: null,
          },
        ],
      },
    };
    const text = renderStatus(
      { status, url: 'http://127.0.0.1:7420', dashboard: 'http://127.0.0.1:7420/#token=t' },
      now,
    );
    expect(text).toContain('running (pid 42, v0.1.0, up 1m 00s) at http://127.0.0.1:7420');
    expect(text).toContain('dashboard:  http://127.0.0.1:7420/#token=t');
    expect(text).toContain('auto → bubblewrap (found bwrap)');
    expect(text).toMatch(/telegram +✗ disconnected .*error: bad token/);
    expect(text).toMatch(/main \(main\) +web:main +2/);
    expect(text).toContain('queue:      running 1, pending 2, waiting 0, backoff 1');
    expect(text).toContain('outbox:     pending 1, sent 5, dead 1');
    expect(text).toContain('chat not found');
    expect(text).toMatch(/main +ok +2\.0s +1\.5k\/20 +\$0\.0100/);
    expect(text).not.toContain('ipc:'); // a report without IPC counts (an older daemon)
    const ipc: DaemonStatus['ipc'] = {
      errorsCap: 1000,
      errorsFiles: 1000,
      quarantined: 2,
      rotated: 101,
      groups: [{ group: 'wreck', errorsFiles: 1000, quarantined: 2, rotated: 101 }],
    };
    const withIpc = renderStatus({ status: { ...status, ipc }, url: 'u', dashboard: null }, now);
    expect(withIpc).toContain(
      'ipc:        errors/ files 1000 (cap 1000 per group), quarantined 2, rotated out 101',
    );
    expect(withIpc).toContain('  wreck: errors/ 1000, quarantined 2, rotated out 101');
    // A report from a daemon without these fields still renders.
    expect(text).toContain('dead letters: 1');
    expect(text).not.toContain('storage:');
  });

  it('renderStatus shows pending dead letters and a failing store with its message', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    const status = {
      daemon: { running: false, pid: null, version: '0.1.0', startedAt: null, home: '/h' },
      runtime: { configured: 'auto', selected: null, why: 'daemon not running' },
      harnesses: [],
      channels: [],
      groups: [],
      sessions: [],
      queue: { running: 0, waiting: 0, pending: 0, backoff: 0 },
      outbox: { pending: 0, sending: 0, sent: 0, dead: 0 },
      deadLetters: { count: 3, pending: 1, recent: [] },
      runs: { byStatus: {}, recent: [] },
      storage: {
        ok: false,
        problem: 'disk_full',
        lastError: 'disk full at /h: free space there, then try again',
        since: now - 90_000,
      },
    } satisfies DaemonStatus;
    const text = renderStatus({ status, url: 'http://127.0.0.1:7420', dashboard: null }, now);
    expect(text).toContain('dead letters: 1 pending (3 in all) — clawpod deadletters list');
    expect(text).toMatch(
      /storage: +✗ disk full since .* \(1m 30s ago\): disk full at \/h: free space there/,
    );
    const ok = renderStatus(
      {
        status: { ...status, storage: { ok: true, problem: null, lastError: null, since: null } },
        url: 'http://127.0.0.1:7420',
        dashboard: null,
      },
      now,
    );
    expect(ok).toContain('storage:    ✓ ok');
  });
});
