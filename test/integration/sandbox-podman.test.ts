import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { nextMessage, say, startDaemon, tempHome } from '../support/daemon-harness.js';

const root = resolve(import.meta.dirname, '../..');
const podmanWorks = (() => {
  try {
    execFileSync('podman', ['info'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!podmanWorks)('message → command harness in podman → reply', () => {
  let d: Daemon;
  beforeAll(async () => {
    try {
      execFileSync('podman', ['image', 'exists', 'clawpod-agent:local']);
    } catch {
      execFileSync('sh', [join(root, 'src/sandbox/build-local-image.sh'), 'podman'], {
        stdio: 'ignore',
      });
    }
    d = await startDaemon(tempHome('runtime: podman\ndefaults: { harness: command }\n'), []);
  }, 120_000);
  afterAll(() => d?.stop());

  it('answers web:main from inside a podman container as a non-root user', async () => {
    d.groups.update('main', { command: 'tr a-z A-Z; echo " uid=$(id -u)"' });
    const out = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
    await say(d, 'web:main', 'hello podman');
    const text = (await out).text;
    expect(text).toContain('HELLO PODMAN');
    // A root daemon runs the group as its own uid (sandbox.uidBase + slot), else as itself.
    const uid =
      process.getuid!() === 0 ? 70_000 + d.groups.get('main').sandboxSlot : process.getuid!();
    expect(text).toContain(`uid=${uid}`);
    expect(d.status().runtime.selected).toBe('podman');
  }, 60_000);
});
