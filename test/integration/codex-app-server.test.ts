/**
 * Codex's app-server mode end to end: the real daemon → a REAL bubblewrap sandbox → the REAL
 * Codex CLI as one long-lived `codex app-server` per agent session → the credential proxy → the
 * fake OpenAI Responses API on 127.0.0.1. What it pins: one process and one thread for a
 * session's turns, the thread resumed by a new session after a restart, tool steps as `tool`
 * events, a failed turn retried, and Codex's approval requests decided by the owner.
 *
 * Each model request that runs a probe learns, from inside the sandbox, which process runs the
 * agent's commands: `PARENT=<pid> <cmdline>` of the shell's parent (Codex itself).
 *
 * Needs bubblewrap, a built dist/ and the codex package; skipped with the reason otherwise.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { RunProgress } from '../../src/events/bus.js';
import {
  reply,
  startFakeOpenAi,
  toolOutputs,
  userTexts,
  type FakeOpenAi,
  type ResponsesRequest,
} from '../fakes/openai-server.js';
import { nextMessage, runEnded, say, startDaemon, tempHome } from '../support/daemon-harness.js';
import { harnessSandboxSkip } from '../support/harness-e2e.js';
import { approvalDecided, nextApproval } from '../support/guard-world.js';

const skipWhy = harnessSandboxSkip({ codex: true });

const MODEL = 'gpt-5.5';
const KEY = 'sk-proj-codex-app-server-test-key-77aa';
/** Prints the pid and command line of the shell's parent: the Codex process running it. */
const PARENT_PROBE = `echo "PARENT=$PPID $(tr '\\0' ' ' < /proc/$PPID/cmdline)"`;

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

/** A data dir for codex in bubblewrap at the default idle timeout (the session stays up). */
function codexHome(): string {
  const home = tempHome(`runtime: bubblewrap\ndefaults: { harness: codex, model: ${MODEL} }\n`);
  writeFileSync(join(home, '.env'), `OPENAI_API_KEY=${KEY}\nOPENAI_BASE_URL=${fake.baseUrl}\n`);
  return home;
}

async function boot(home: string): Promise<Daemon> {
  const d = await startDaemon(home, []);
  daemons.push(d);
  return d;
}

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

/** Says `text` in web:main and waits for the reply `answer` and the run's end. */
async function exchange(d: Daemon, text: string, answer: string): Promise<string> {
  const got = nextMessage(d, (m) => outIn('web:main')(m) && m.text === answer);
  const ended = runEnded(d);
  await say(d, 'web:main', text);
  await got;
  return (await ended).status;
}

/** The PARENT= lines the probes printed, from the tool outputs a request carries. */
function parents(req: ResponsesRequest): Array<{ pid: number; cmdline: string }> {
  return toolOutputs(req).flatMap((o) =>
    [...o.output.matchAll(/PARENT=(\d+) ([^\n"\\]*)/g)].map((m) => ({
      pid: Number(m[1]),
      cmdline: m[2]!,
    })),
  );
}

/** Per user message: probe first (the turn's first request ends with it), then `answer <it>`. */
function probeThenAnswer(req: ResponsesRequest) {
  if (req.input.at(-1)?.type === 'message') return reply.shell(PARENT_PROBE);
  // The prompt is clawpod's message envelope: answer after the words the tests say.
  const said = /\b(first|second|before restart|after restart|flaky)\b/.exec(
    userTexts(req).at(-1) ?? '',
  );
  return reply.text(`answer ${said?.[1] ?? '?'}`);
}

describe.skipIf(Boolean(skipWhy))(
  `codex app-server in bubblewrap${skipWhy ? ` (skipped: ${skipWhy})` : ''}`,
  () => {
    it('serves two turns of a session from ONE app-server and one thread, tool steps as tool events', async () => {
      fake.setScript(probeThenAnswer);
      const d = await boot(codexHome());
      const tools: RunProgress[] = [];
      d.bus.on('progress', (p: RunProgress) => {
        if (p.kind === 'tool') tools.push(p);
      });

      expect(await exchange(d, 'first', 'answer first')).toBe('ok');
      const thread = d.store.resumeIds.get('main', 'codex');
      expect(thread).toMatch(/^[0-9a-f-]{36}$/);
      const sessionOfFirst = d.store.runs.list()[0]!.sessionId;
      expect(await exchange(d, 'second', 'answer second')).toBe('ok');
      // The same agent session answered (the default idle timeout kept it up)…
      expect(d.store.runs.list()[0]!.sessionId).toBe(sessionOfFirst);

      const calls = fake.responses();
      expect(calls).toHaveLength(4);
      const [p1] = parents(calls[1]!.body!);
      const seconds = parents(calls[3]!.body!);
      const p2 = seconds.at(-1)!;
      // …and ONE Codex process, the app-server, ran both turns' commands.
      expect(p1!.cmdline).toMatch(/\bcodex app-server\b/);
      expect(p2.pid).toBe(p1!.pid);
      // The same thread: the second turn's first request carries the first turn.
      const second = calls[2]!.body!;
      const secondTexts = userTexts(second).join('\n');
      expect(secondTexts).toContain('first');
      expect(secondTexts).toContain('second');
      expect(JSON.stringify(second.input)).toContain('answer first');
      expect(d.store.resumeIds.get('main', 'codex')).toBe(thread);

      // Each command step reached the host as a `tool` event.
      const shellSteps = tools.filter((t) => t.kind === 'tool' && t.name === 'shell');
      expect(shellSteps).toHaveLength(2);
      for (const t of shellSteps) {
        if (t.kind !== 'tool') continue;
        expect(t.summary).toContain('PARENT=$PPID');
        expect(t.group).toBe('main');
      }
    }, 120_000);

    it('resumes the thread in a new app-server after a restart', async () => {
      fake.setScript(probeThenAnswer);
      const home = codexHome();
      const d1 = await boot(home);
      expect(await exchange(d1, 'before restart', 'answer before restart')).toBe('ok');
      const thread = d1.store.resumeIds.get('main', 'codex');
      const before = parents(fake.responses()[1]!.body!)[0]!;
      await d1.stop();
      daemons.splice(daemons.indexOf(d1), 1);

      const d2 = await boot(home);
      expect(await exchange(d2, 'after restart', 'answer after restart')).toBe('ok');
      const calls = fake.responses();
      const resumed = calls[2]!.body!;
      const resumedTexts = userTexts(resumed).join('\n');
      expect(resumedTexts).toContain('before restart');
      expect(resumedTexts).toContain('after restart');
      expect(JSON.stringify(resumed.input)).toContain('answer before restart');
      const after = parents(calls[3]!.body!)[0]!;
      expect(before.cmdline).toMatch(/\bcodex app-server\b/);
      expect(after.cmdline).toMatch(/\bcodex app-server\b/);
      expect(d2.store.resumeIds.get('main', 'codex')).toBe(thread);
    }, 120_000);

    it('reports a failed turn as an error and the run is retried', async () => {
      // The model fails every request until the first attempt has failed.
      let down = true;
      fake.setScript((req) => {
        if (down && userTexts(req).at(-1)?.includes('flaky')) {
          return reply.error(500, 'server_error', 'the fake model is down');
        }
        return probeThenAnswer(req);
      });
      const d = await boot(codexHome());
      const got = nextMessage(d, (m) => outIn('web:main')(m) && m.text === 'answer flaky');
      const first = runEnded(d);
      await say(d, 'web:main', 'flaky');
      const failed = await first;
      down = false;
      expect(failed.status).toBe('error');
      // Codex's own words for a 5xx, passed on as a retryable failure.
      expect(failed.error).toMatch(/^Codex failed: /);
      await got;
      const runs = d.store.runs.list();
      expect(runs.map((r) => r.status)).toEqual(['ok', 'error']);
      // Both attempts ran in an app-server (the retry's commands prove it).
      const probeReq = fake.responses().find((r) => parents(r.body!).length > 0)!;
      expect(parents(probeReq.body!)[0]!.cmdline).toMatch(/\bcodex app-server\b/);
    }, 120_000);

    it("routes codex's approval request to the owner; a deny reaches codex and the command never runs", async () => {
      fake.setScript((req) => {
        const outputs = toolOutputs(req);
        if (outputs.length === 0) return reply.shell('git push origin main');
        return reply.text(`push result: ${outputs.at(-1)!.output}`);
      });
      const d = await boot(codexHome());
      const asked = nextApproval(d);
      const final = nextMessage(d, (m) => outIn('web:main')(m) && m.text.startsWith('push result'));
      const ended = runEnded(d);
      await say(d, 'web:main', 'push it');
      // The approval comes before the run ends (without routing, the command just runs).
      const approval = await Promise.race([asked, ended.then(() => null)]);
      if (!approval) throw new Error('the run ended without asking for approval');
      // The guard's default rule (Bash(git push:*) → ask) asked the owner about codex's command.
      expect(approval.kind).toBe('tool');
      expect(approval.subject).toBe('Bash');
      expect(approval.effect).toMatchObject({
        kind: 'tool',
        tool: 'Bash',
        input: { command: 'git push origin main' },
      });
      const decided = approvalDecided(d, approval.id);
      expect(d.guard.answer(approval.id, 'deny', 'owner')).toMatchObject({ ok: true });
      expect((await decided).status).not.toBe('pending');
      const text = (await final).text;
      expect((await ended).status).toBe('ok');
      // Codex was told: the tool output the model got says the command was rejected, and git
      // never ran (it would have said "not a git repository").
      expect(text).toMatch(/rejected/i);
      expect(text).not.toMatch(/not a git repository/i);
    }, 120_000);
  },
);
