import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { StorageUnavailableError } from '../store/storage-errors.js';
import { StorageHealth } from '../store/storage-health.js';
import { watchStorage } from './storage-notices.js';

function setup(opts: { outboxFull?: boolean } = {}) {
  let now = 1_000_000;
  const health = new StorageHealth({ now: () => now });
  const notices: Array<{ key: string; text: string }> = [];
  let kicks = 0;
  const outbox = {
    full: opts.outboxFull ?? false,
    notifyOwner(key: string, text: string) {
      if (outbox.full)
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      notices.push({ key, text });
    },
    kick: () => void kicks++,
  };
  watchStorage({ health, outbox, log: silentLogger(), now: () => now });
  return { health, notices, outbox, kicks: () => kicks, advance: (ms: number) => (now += ms) };
}

const full = new StorageUnavailableError('disk_full', 'disk full at /data: free space there', 30);
const busy = new StorageUnavailableError('busy', 'the database /data/clawpod.db is locked', 5);

describe('watchStorage', () => {
  it('tells the owner of a full disk once, not again within the quiet hour, and wakes the outbox on recovery', () => {
    const { health, notices, kicks, advance } = setup();
    health.failed(full);
    health.failed(full);
    expect(notices.map((n) => n.text)).toEqual([
      '⚠️ Storage: disk full at /data: free space there. Until then new messages are refused (HTTP 507).',
    ]);
    health.succeeded();
    expect(kicks()).toBe(1);
    advance(60_000);
    health.failed(full); // flapping within the hour: quiet
    expect(notices).toHaveLength(1);
    health.succeeded();
    advance(3_600_000);
    health.failed(full);
    expect(notices).toHaveLength(2);
  });

  it('a locked database is only logged, never a notice', () => {
    const { health, notices } = setup();
    health.failed(busy);
    health.succeeded();
    expect(notices).toEqual([]);
  });

  it('when the outbox cannot take the notice, the owner hears it once storage recovers', () => {
    const { health, notices, outbox, advance } = setup({ outboxFull: true });
    health.failed(full);
    expect(notices).toEqual([]);
    outbox.full = false;
    advance(120_000);
    health.succeeded();
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toMatch(
      /^⚠️ Storage: the disk was full from .* until .*: disk full at \/data: free space there\. Writes work again\./,
    );
  });
});
