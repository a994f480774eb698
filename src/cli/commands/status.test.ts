import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../status.js';
import { renderStatus } from './status.js';

describe('renderStatus', () => {
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
