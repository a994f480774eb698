/**
 * End to end: a message in web:main → the daemon → a REAL bubblewrap sandbox → the REAL Claude
 * Code (Agent SDK) → the host's credential proxy → the fake Anthropic API on 127.0.0.1.
 *
 * Needs bubblewrap and a built dist/ (the agent bundle); skipped with the reason otherwise.
 */
import { chownSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  answeredTool,
  reply,
  startFakeAnthropic,
  toolResults,
  userText,
  type FakeAnthropic,
} from '../fakes/anthropic-server.js';
import { TEST_MODEL } from '../support/claude-world.js';
import { nextMessage, runEnded, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import {
  allowlistedProjects,
  bootHarnessDaemon,
  harnessSandboxSkip,
  leakProbe,
  parseView,
  VIEW_PROBE,
} from '../support/harness-e2e.js';

const skipWhy = harnessSandboxSkip();

/** The key the host holds; it must reach the fake API and never the sandbox. */
const REAL_KEY = 'sk-ant-api03-REAL-host-only-e2e-key-7f3a9c';

const daemons: Daemon[] = [];
let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(() => fake.close());
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  fake.requests.length = 0;
});

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

async function boot(env: Record<string, string>): Promise<{ d: Daemon; home: string }> {
  const booted = await bootHarnessDaemon('claude', TEST_MODEL, env);
  daemons.push(booted.d);
  return booted;
}

// What the sandbox sees of clawpod first, then everything that might hold the key.
const LEAK_PROBE = `${VIEW_PROBE}; ${leakProbe(REAL_KEY)}`;

describe.skipIf(Boolean(skipWhy))(
  `claude in bubblewrap through the proxy${skipWhy ? ` (skipped: ${skipWhy})` : ''}`,
  () => {
    it('delivers send_message, writes the file, leaks no key, records usage, and resumes', async () => {
      let probe = '';
      fake.setScript((req) => {
        const prompt = userText(req);
        if (prompt.includes('second message')) return reply.text('second answer');
        switch (answeredTool(req)) {
          case undefined:
            return reply.tool('mcp__clawpod__send_message', { text: 'working on it' });
          case 'mcp__clawpod__send_message':
            return reply.tool('Write', {
              file_path: '/workspace/group/e2e.txt',
              content: 'made in the sandbox\n',
            });
          case 'Write':
            return reply.tool('Bash', { command: LEAK_PROBE, description: 'probe' });
          default:
            probe = toolResults(req).join('\n');
            return reply.text('all done');
        }
      });
      const { d, home } = await boot({ ANTHROPIC_API_KEY: REAL_KEY, ANTHROPIC_BASE_URL: fake.url });
      const progress = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'working on it');
      const final = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'all done');
      const ended = runEnded(d);
      await say(d, 'web:main', 'please work');
      await progress;
      await final;
      expect((await ended).status).toBe('ok');

      expect(readFileSync(join(home, 'groups/main/e2e.txt'), 'utf8')).toBe('made in the sandbox\n');
      const run = d.store.runs.list()[0]!;
      expect(run.usage.inputTokens).toBeGreaterThan(0);
      expect(run.usage.outputTokens).toBeGreaterThan(0);
      expect(run.usage.costUsd).toBeGreaterThan(0);

      // The model API got the real key; the sandbox saw only a placeholder.
      const msgs = fake.messages();
      expect(msgs.length).toBeGreaterThanOrEqual(4);
      for (const r of msgs) expect(r.headers['x-api-key']).toBe(REAL_KEY);
      expect(probe).toContain('PROBE-END');
      expect(probe).toContain('CLAWPOD_IPC_DIR=/workspace/ipc'); // it ran in the sandbox…
      expect(probe).toMatch(/UID=[1-9]/); // …as a non-root user, without IS_SANDBOX
      expect(probe).not.toContain('IS_SANDBOX');
      expect(probe).toMatch(/ANTHROPIC_API_KEY=\S+/);
      expect(probe).not.toContain(REAL_KEY);
      expect(probe).not.toContain(REAL_KEY.slice(0, 20));
      expect(probe).toMatch(/GREP\s+PROBE-END/); // grep found no file holding the key
      // Of clawpod itself the sandbox sees the two bundles and the claude packages, nothing else
      // of dist/ or node_modules/ (no other harness's packages, no host libraries).
      const view = parseView(probe);
      expect(view['/opt/clawpod']).toEqual(['agent', 'node_modules']);
      expect(view['/opt/clawpod/agent']).toEqual(['mcp.cjs', 'runner.cjs']);
      expect(view['/opt/clawpod/node_modules']).toEqual(['@anthropic-ai']);
      expect(view['/opt/clawpod/node_modules/@anthropic-ai']).toEqual([
        'claude-agent-sdk',
        `claude-agent-sdk-${process.platform}-${process.arch}`,
      ]);
      expect(view['/opt/clawpod/node_modules/@openai']).toEqual([]);

      // The second message resumes the session: the model sees the first turn.
      const sid = d.store.resumeIds.get('main', 'claude');
      expect(sid).toBeTruthy();
      const second = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'second answer');
      await say(d, 'web:main', 'second message');
      await second;
      const last = fake.messages().at(-1)!.body!;
      expect(userText(last)).toContain('please work');
      expect(d.store.resumeIds.get('main', 'claude')).toBe(sid);
      expect(d.store.runs.list()).toHaveLength(2); // a new sandbox, resuming by session id
    });

    it('writes into a read-write mount, told in its system prompt where the mounts are', async () => {
      const { base, projects, config } = allowlistedProjects('clawpod-claude-repo-', [
        'app',
        'docs',
      ]);
      try {
        const repo = join(projects, 'app');
        const docs = join(projects, 'docs');
        fake.setScript((req) =>
          answeredTool(req) === undefined
            ? reply.tool('Write', { file_path: '/workspace/extra/app/notes.md', content: 'plan\n' })
            : reply.text('written'),
        );
        const booted = await bootHarnessDaemon(
          'claude',
          TEST_MODEL,
          { ANTHROPIC_API_KEY: REAL_KEY, ANTHROPIC_BASE_URL: fake.url },
          config,
        );
        const d = booted.d;
        daemons.push(d);
        if (process.getuid!() === 0)
          chownSync(repo, 70_000 + d.groups.get('main').sandboxSlot, 70_000);
        d.groups.mount('main', { hostPath: repo, readOnly: false });
        d.groups.mount('main', { hostPath: docs });
        const done = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'written');
        await say(d, 'web:main', 'write the plan into the app');
        await done;
        expect(readFileSync(join(repo, 'notes.md'), 'utf8')).toBe('plan\n');
        expect(JSON.stringify(fake.messages()[0]!.body!.system)).toContain(
          'Host folders mounted for this group: /workspace/extra/app (read-write), /workspace/extra/docs (read-only).',
        );
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }, 120_000);
  },
);

describe('claude without a credential', () => {
  it('answers the chat with what to set, not a stack trace', async () => {
    const home = tempHome('runtime: none\ndefaults: { harness: claude }\n');
    const d = await startDaemon(home, []);
    daemons.push(d);
    const out = nextMessage(d, outIn('web:main'));
    await say(d, 'web:main', 'hello?');
    const text = (await out).text;
    expect(text).toContain('ANTHROPIC_API_KEY');
    expect(text).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(text).not.toMatch(/\n\s+at /);
    expect(fake.requests).toHaveLength(0);
  });
});
