/**
 * End to end: a message in web:main → the daemon → a REAL bubblewrap sandbox → the REAL Codex
 * CLI → the host's credential proxy → the fake OpenAI Responses API on 127.0.0.1.
 *
 * Needs bubblewrap, a built dist/ and the codex package; skipped with the reason otherwise.
 */
import { chownSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  reply,
  startFakeOpenAi,
  toolOutputs,
  userTexts,
  type FakeOpenAi,
} from '../fakes/openai-server.js';
import { nextMessage, runEnded, say } from '../support/daemon-harness.js';
import {
  allowlistedProjects,
  bootHarnessDaemon,
  harnessSandboxSkip,
  leakProbe,
  parseView,
  VIEW_PROBE,
} from '../support/harness-e2e.js';

const skipWhy = harnessSandboxSkip({ codex: true });

/** The key the host holds; it must reach the fake API and never the sandbox. */
const REAL_KEY = 'sk-proj-REAL-host-only-codex-e2e-key-4b8e21';
/** Known to Codex (no metadata warning) and to the price table. */
const MODEL = 'gpt-5.5';

const daemons: Daemon[] = [];
let fake: FakeOpenAi;
beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  fake.requests.length = 0;
});

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

async function boot(env: Record<string, string>): Promise<{ d: Daemon; home: string }> {
  const booted = await bootHarnessDaemon('codex', MODEL, env);
  daemons.push(booted.d);
  return booted;
}

// What the sandbox sees of clawpod first, then everything that might hold the key.
const LEAK_PROBE = `${VIEW_PROBE}; ${leakProbe(REAL_KEY)}`;

describe.skipIf(Boolean(skipWhy))(
  `codex in bubblewrap through the proxy${skipWhy ? ` (skipped: ${skipWhy})` : ''}`,
  () => {
    it.each(['app-server', 'exec'] as const)(
      '(%s mode) delivers send_message, writes the file, leaks no key, records usage, and resumes',
      async (mode) => {
        let probe = '';
        fake.setScript((req) => {
          if (userTexts(req).at(-1)?.includes('second message')) return reply.text('second answer');
          const outputs = toolOutputs(req);
          switch (outputs.length) {
            case 0:
              return reply.mcp('clawpod', 'send_message', { text: 'working on it' });
            case 1:
              return reply.shell('echo made in the sandbox > /workspace/group/e2e.txt');
            case 2:
              return reply.shell(LEAK_PROBE);
            default:
              probe = outputs.at(-1)!.output;
              return reply.text('all done');
          }
        });
        const { d, home } = await boot({ OPENAI_API_KEY: REAL_KEY, OPENAI_BASE_URL: fake.baseUrl });
        d.groups.update('main', { harnessOptions: { codex: { mode } } });
        const progress = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'working on it');
        const final = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'all done');
        const ended = runEnded(d);
        await say(d, 'web:main', 'please work');
        await progress;
        await final;
        expect((await ended).status).toBe('ok');

        expect(readFileSync(join(home, 'groups/main/e2e.txt'), 'utf8')).toBe(
          'made in the sandbox\n',
        );
        const run = d.store.runs.list()[0]!;
        expect(run.usage.inputTokens).toBeGreaterThan(0);
        expect(run.usage.outputTokens).toBeGreaterThan(0);
        expect(run.usage.costUsd).toBeGreaterThan(0);

        // The model API got the real key; the sandbox saw only a placeholder.
        const calls = fake.responses();
        expect(calls.length).toBe(4);
        for (const r of calls) expect(r.headers.authorization).toBe(`Bearer ${REAL_KEY}`);
        expect(probe).toContain('PROBE-END');
        expect(probe).toContain('CLAWPOD_IPC_DIR=/workspace/ipc'); // it ran in the sandbox…
        expect(probe).toMatch(/UID=[1-9]/); // …as a non-root user
        expect(probe).toMatch(/OPENAI_API_KEY=\S+/);
        expect(probe).not.toContain(REAL_KEY);
        expect(probe).not.toContain(REAL_KEY.slice(0, 20));
        expect(probe).toMatch(/GREP\s+PROBE-END/); // grep found no file holding the key
        // Of clawpod itself the sandbox sees the two bundles and the codex packages, nothing else
        // of dist/ or node_modules/ (no other harness's packages, no host libraries).
        const view = parseView(probe);
        expect(view['/opt/clawpod']).toEqual(['agent', 'node_modules']);
        expect(view['/opt/clawpod/agent']).toEqual(['mcp.cjs', 'runner.cjs']);
        expect(view['/opt/clawpod/node_modules']).toEqual(['@openai']);
        expect(view['/opt/clawpod/node_modules/@openai']).toEqual([
          'codex',
          `codex-${process.platform}-${process.arch}`,
        ]);
        expect(view['/opt/clawpod/node_modules/@anthropic-ai']).toEqual([]);

        // The second message resumes the thread: the model sees the first turn.
        const thread = d.store.resumeIds.get('main', 'codex');
        expect(thread).toMatch(/^[0-9a-f-]{36}$/);
        const second = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'second answer');
        const ended2 = runEnded(d);
        await say(d, 'web:main', 'second message');
        await second;
        expect((await ended2).status).toBe('ok');
        const last = fake.responses().at(-1)!.body!;
        expect(JSON.stringify(userTexts(last))).toContain('please work');
        expect(JSON.stringify(last.input)).toContain('all done');
        expect(d.store.resumeIds.get('main', 'codex')).toBe(thread);
        // Usage per turn: the resumed run counts its one request, not the thread's five.
        const run2 = d.store.runs.list()[0]!;
        expect(run2.usage.inputTokens).toBeLessThan(run.usage.inputTokens!);
      },
      120_000,
    );

    it('a coder group with the repository mounted read-write changes it, told where it is', async () => {
      const { base, projects, config } = allowlistedProjects('clawpod-codex-repo-', ['app'], {
        nonMainReadOnly: false,
      });
      try {
        const repo = join(projects, 'app');
        writeFileSync(join(repo, 'README.md'), '# app\n');
        fake.setScript((req) =>
          toolOutputs(req).length === 0
            ? reply.shell(
                'echo "export const add = (a, b) => a + b;" > /workspace/extra/app/add.js',
              )
            : reply.text('committed'),
        );
        const booted = await bootHarnessDaemon(
          'codex',
          MODEL,
          { OPENAI_API_KEY: REAL_KEY, OPENAI_BASE_URL: fake.baseUrl },
          config,
        );
        const d = booted.d;
        daemons.push(d);
        d.groups.add({ name: 'coder', chats: ['web:coder'], requiresTrigger: false });
        if (process.getuid!() === 0)
          chownSync(repo, 70_000 + d.groups.get('coder').sandboxSlot, 70_000);
        d.groups.mount('coder', { hostPath: repo, readOnly: false });
        const done = nextMessage(d, (m) => outIn('web:coder')(m) && m.text === 'committed');
        await say(d, 'web:coder', 'add an add function to the app');
        await done;
        expect(readFileSync(join(repo, 'add.js'), 'utf8')).toBe(
          'export const add = (a, b) => a + b;\n',
        );
        // Codex's developer instructions name the mount and that it may write there.
        expect(JSON.stringify(fake.responses()[0]!.body)).toContain(
          'Host folders mounted for this group: /workspace/extra/app (read-write).',
        );
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }, 120_000);

    it('tells the chat which variable to set when there is no OpenAI key', async () => {
      const { d } = await boot({ OPENAI_BASE_URL: fake.baseUrl });
      const answer = nextMessage(d, outIn('web:main'));
      await say(d, 'web:main', 'hello');
      const text = (await answer).text;
      expect(text).toContain('OPENAI_API_KEY');
      expect(text).not.toMatch(/\bat \S+\.js:\d+/); // no stack trace
      expect(fake.requests).toHaveLength(0);
    });
  },
);
