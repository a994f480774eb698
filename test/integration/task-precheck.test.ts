import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/logging/logger.js';
import { OWNER } from '../../src/tasks/task-service.js';
import { FakeClock } from '../support/fake-clock.js';
import { nextMessage, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { hasBwrap } from '../support/host-tools.js';

const HOUR = 3_600_000;
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

describe.skipIf(!hasBwrap)('task pre-check scripts run in the sandbox', () => {
  it('{"wake": false} skips the model call; anything else wakes the agent', async () => {
    const home = tempHome('runtime: bubblewrap\n');
    const clock = new FakeClock(Date.UTC(2026, 10, 20, 12, 0));
    const runner = scriptedLauncher(() => reply('woke up'));
    const d = new Daemon({
      config: loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH }),
      log: silentLogger(),
      launchers: [runner],
      clock,
    });
    daemons.push(d);
    await d.start();
    const quiet = d.scheduling.tasks.create(OWNER, {
      schedule: '1h',
      prompt: 'check the inbox',
      preCheck: `test -e /workspace/group/new-mail && echo '{"wake": true}' || echo '{"wake": false}'`,
    });
    const runs = d.store.taskRuns;
    const skipped = new Promise<void>((resolve) => {
      const check = () =>
        runs.list(quiet.id, 10).some((r) => r.status === 'skipped')
          ? resolve()
          : setTimeout(check, 20);
      check();
    });
    await clock.advance(HOUR);
    await skipped;
    expect(runner.started).toHaveLength(0);
    execFileSync('sh', [
      '-c',
      `touch ${home}/groups/main/new-mail && chmod 644 ${home}/groups/main/new-mail`,
    ]);
    const woke = nextMessage(d, (m) => m.direction === 'out' && m.text === 'woke up');
    await clock.advance(HOUR);
    await woke;
    expect(runner.started).toHaveLength(1);
  });
});
