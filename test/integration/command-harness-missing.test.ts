import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';

// The command harness runs its command inside the real sandbox (bubblewrap here), at the
// settings a user gets. A program the sandbox does not have (exit 127) or cannot run (126) is
// reported at once, naming the command and where it runs; it is never retried 5 times.

let home: string;
let d: Daemon;

beforeAll(async () => {
  home = defaultHome();
  d = await startDaemon(home, []);
});
afterAll(async () => {
  await d?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('command harness: a program missing in the sandbox', () => {
  it.each([
    ['a host path (exit 127)', '/home/me/agent.sh', 127],
    ['a file that is not executable (exit 126)', '/workspace/group/CLAUDE.md', 126],
  ])('%s ends the run at once with why, no retry', async (_what, command, code) => {
    const name = `cmd${code}`;
    d.groups.add({
      name,
      chats: [`web:${name}`],
      requiresTrigger: false,
      harness: 'command',
      command,
    });
    const ended = runEnded(d);
    const notice = nextMessage(d, (m) => m.direction === 'out' && m.chatId === `web:${name}`);
    await say(d, `web:${name}`, 'hello');
    const run = await ended;
    expect(run.status).toBe('dead'); // over for good: not 'error' waiting for a retry
    expect(run.error).toContain(`command "${command}" exited with ${code}`);
    expect(run.error).toContain('it runs inside the sandbox, in /workspace/group');
    expect((await notice).text).toContain('⚠️');
    expect(d.status().queue.backoff).toBe(0);
    expect(d.store.runs.list({ group: name, limit: 10 })).toHaveLength(1);
  });
});
