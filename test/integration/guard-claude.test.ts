/**
 * Claude tool calls through the guard, end to end at the user's defaults: a message in
 * web:main → the daemon → a REAL bubblewrap sandbox → the REAL Claude Code (Agent SDK), whose
 * permission callback asks the host (`approve_tool`) → the guard's default rules → an
 * approval card in the owner's chat → the owner's answer (chat or API) → the tool runs or the
 * model is told no. The fake Anthropic API on 127.0.0.1 plays the model.
 *
 * Needs bubblewrap and a built dist/ (the agent bundle); skipped with the reason otherwise.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  answeredTool,
  reply,
  startFakeAnthropic,
  toolResults,
  type FakeAnthropic,
} from '../fakes/anthropic-server.js';
import { TEST_MODEL } from '../support/claude-world.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { FakeClock } from '../support/fake-clock.js';
import { nextApproval } from '../support/guard-world.js';
import { harnessSandboxSkip } from '../support/harness-e2e.js';

const skipWhy = harnessSandboxSkip();

const stops: Array<() => Promise<void>> = [];
let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(() => fake.close());
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  fake.requests.length = 0;
});

/** A daemon at the defaults a user gets, running Claude in bubblewrap against the fake. */
async function boot(
  home?: string,
  extraYaml = '',
  clock?: FakeClock,
): Promise<{ d: Daemon; home: string }> {
  const h =
    home ?? defaultHome(`defaults: { harness: claude, model: ${TEST_MODEL} }\n${extraYaml}`);
  writeFileSync(
    join(h, '.env'),
    `ANTHROPIC_API_KEY=sk-ant-api03-guard-claude-test-key\nANTHROPIC_BASE_URL=${fake.url}\n`,
  );
  const d = await startDaemon(h, [], undefined, {}, clock ? { clock } : {});
  stops.push(() => d.stop());
  return { d, home: h };
}

/** `git push` matches the default ask rule `Bash(git push:*)`; the echo shows it ran. */
const PUSH = 'git push origin main 2>/dev/null; echo PUSH-STEP-RAN';

/** The model calls Bash with `command` once, then repeats the tool result as its reply. */
function bashOnce(command: string): { seen: string[] } {
  const state = { seen: [] as string[] };
  fake.setScript((req) => {
    if (answeredTool(req) === 'Bash') {
      const result = toolResults(req).join(' | ');
      state.seen.push(result);
      return reply.text(`TOOL SAID: ${result}`);
    }
    return reply.tool('Bash', { command, description: 'push the branch' });
  });
  return state;
}

const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

async function api(d: Daemon, home: string, method: string, path: string, body?: unknown) {
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${d.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe.skipIf(Boolean(skipWhy))(
  `guard: claude tool calls in bubblewrap${skipWhy ? ` (skipped: ${skipWhy})` : ''}`,
  () => {
    it('holds a tool call an ask rule matches, shows every argument, and runs it once the owner says yes in chat', async () => {
      const model = bashOnce(PUSH);
      const { d } = await boot();
      const asked = nextApproval(d);
      const card = nextMessage(
        d,
        (m) => outIn('web:main')(m) && m.text.startsWith('🔐 Approval #'),
      );
      const ended = runEnded(d);
      await say(d, 'web:main', 'push it please');
      const a = await asked;
      expect(a).toMatchObject({ group: 'main', kind: 'tool', subject: 'Bash', status: 'pending' });
      expect(a.effect).toEqual({
        kind: 'tool',
        tool: 'Bash',
        input: { command: PUSH, description: 'push the branch' },
      });
      const text = (await card).text;
      expect(text).toContain('wants to use Bash');
      expect(text).toContain(`command: ${PUSH}`);
      expect(text).toContain('pushes commits to a remote repository');
      expect(text).toContain("description (the agent's own words, not checked by clawpod)");
      expect(text).toContain(`"yes ${a.id}"`);
      // Held: the model has not seen a tool result yet.
      expect(model.seen).toEqual([]);

      const reply = nextMessage(d, (m) => outIn('web:main')(m) && m.text.startsWith('TOOL SAID'));
      await say(d, 'web:main', `yes ${a.id}`, 'owner');
      expect((await ended).status).toBe('ok');
      expect((await reply).text).toContain('PUSH-STEP-RAN');
      expect(model.seen.join('')).toContain('PUSH-STEP-RAN');
      expect(d.store.approvals.get(a.id)).toMatchObject({ status: 'allowed', decision: 'once' });
    });

    it('a denied call (API) is not run: the model gets the denial and the run ends ok', async () => {
      const model = bashOnce(PUSH);
      const { d, home } = await boot();
      const asked = nextApproval(d);
      const ended = runEnded(d);
      await say(d, 'web:main', 'push it please');
      const a = await asked;
      const res = await api(d, home, 'POST', `/api/approvals/${a.id}`, { decision: 'deny' });
      expect(res.status).toBe(200);
      expect((await ended).status).toBe('ok');
      expect(model.seen).toHaveLength(1);
      expect(model.seen[0]).toContain(`the owner denied approval #${a.id}`);
      expect(model.seen[0]).not.toContain('PUSH-STEP-RAN');
    });

    it('in one turn, a call no ask rule matches runs without an approval; only the matched one is held', async () => {
      const seen: string[] = [];
      fake.setScript((req) => {
        const tool = answeredTool(req);
        if (tool) seen.push(toolResults(req).join(' | '));
        if (!tool) return reply.tool('Bash', { command: 'echo PLAIN-$((40+2))' });
        if (seen.length === 1) return reply.tool('Bash', { command: PUSH });
        return reply.text('done');
      });
      const { d, home } = await boot();
      const asked = nextApproval(d);
      const ended = runEnded(d);
      await say(d, 'web:main', 'say something, then push');
      const a = await asked;
      // The plain call ran before anyone was asked; the push is the one approval.
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain('PLAIN-42');
      expect(a.effect).toMatchObject({ tool: 'Bash', input: { command: PUSH } });
      await api(d, home, 'POST', `/api/approvals/${a.id}`, { decision: 'deny' });
      expect((await ended).status).toBe('ok');
      expect(d.store.approvals.list({ status: 'all' })).toHaveLength(1);
    });

    it('silence is a no: at its expiry (10 minutes, on the daemon clock) the call is denied and the run ends ok', async () => {
      const clock = new FakeClock(Date.now());
      const model = bashOnce(PUSH);
      const { d } = await boot(undefined, '', clock);
      const asked = nextApproval(d);
      const ended = runEnded(d);
      await say(d, 'web:main', 'push it please');
      const a = await asked;
      await clock.advance(599_000);
      expect(d.store.approvals.get(a.id)?.status).toBe('pending');
      await clock.advance(1_000);
      expect(d.store.approvals.get(a.id)).toMatchObject({ status: 'expired', decision: 'deny' });
      expect((await ended).status).toBe('ok');
      expect(model.seen[0]).toContain(`approval #${a.id} expired without an answer`);
      expect(model.seen[0]).not.toContain('PUSH-STEP-RAN');
    });

    it('the group’s own .claude/settings.json (agent-writable) cannot allow around the guard', async () => {
      const model = bashOnce(PUSH);
      const { d, home } = await boot();
      mkdirSync(join(home, 'groups/main/.claude'), { recursive: true });
      writeFileSync(
        join(home, 'groups/main/.claude/settings.json'),
        JSON.stringify({
          permissions: { allow: ['Bash', 'Bash(*)'], defaultMode: 'bypassPermissions' },
        }),
      );
      const asked = nextApproval(d);
      const ended = runEnded(d);
      await say(d, 'web:main', 'push it please');
      const a = await asked;
      expect(a.effect).toMatchObject({ tool: 'Bash', input: { command: PUSH } });
      await say(d, 'web:main', `no ${a.id}`, 'owner');
      expect((await ended).status).toBe('ok');
      expect(model.seen[0]).toContain(`the owner denied approval #${a.id}`);
    });

    it('a read-only tool a config rule names is sent to the host and held', async () => {
      fake.setScript((req) =>
        answeredTool(req) === 'Read'
          ? reply.text(`READ: ${toolResults(req).join('')}`)
          : reply.tool('Read', { file_path: '/workspace/group/secret/key.txt' }),
      );
      const { d, home } = await boot(
        undefined,
        "guard: { rules: { main: [{ kind: tool, pattern: 'Read(/workspace/group/secret/**)', effect: ask }] } }\n",
      );
      mkdirSync(join(home, 'groups/main/secret'), { recursive: true });
      writeFileSync(join(home, 'groups/main/secret/key.txt'), 'SECRET-CONTENT\n');
      const asked = nextApproval(d);
      const reply1 = nextMessage(d, (m) => outIn('web:main')(m) && m.text.startsWith('READ:'));
      await say(d, 'web:main', 'read the key');
      const a = await asked;
      expect(a.effect).toMatchObject({
        tool: 'Read',
        input: { file_path: '/workspace/group/secret/key.txt' },
      });
      await say(d, 'web:main', `yes ${a.id}`, 'owner');
      expect((await reply1).text).toContain('SECRET-CONTENT');
    });

    it('a tainted turn (a member’s message in another group) asks even for a call every rule allows', async () => {
      const model = bashOnce('echo PLAIN-$((40+2))');
      const { d } = await boot();
      const asked = nextApproval(d);
      const ended = runEnded(d);
      d.groups.add({ name: 'team', chats: ['web:team'], requiresTrigger: false });
      await say(d, 'web:team', 'say something', 'alice');
      const a = await asked;
      expect(a).toMatchObject({
        group: 'team',
        kind: 'tool',
        subject: 'Bash',
        askedIn: 'web:main',
      });
      expect(a.taint).toEqual([
        'this turn read a message from alice (member), and any file it carried',
      ]);
      expect(a.card).toContain('Asked because the turn is tainted');
      expect(model.seen).toEqual([]);
      await say(d, 'web:main', `yes ${a.id}`, 'owner');
      expect((await ended).status).toBe('ok');
      expect(model.seen.join('')).toContain('PLAIN-42');
    });

    it('a restart while waiting: the call is told clawpod stopped, the approval stays open and answerable', async () => {
      const model = bashOnce(PUSH);
      const first = await boot();
      const asked = nextApproval(first.d);
      const ended = runEnded(first.d);
      await say(first.d, 'web:main', 'push it please');
      const a = await asked;
      await stops.pop()!(); // stop the daemon while the tool call waits for the owner
      // The waiting call was refused with why; the model answered; the run is over, not lost.
      expect(model.seen).toHaveLength(1);
      expect(model.seen[0]).toContain(`clawpod is stopping; approval #${a.id} stays open`);
      expect(model.seen[0]).not.toContain('PUSH-STEP-RAN');
      expect((await ended).status).toBe('ok');

      const second = await boot(first.home);
      expect(second.d.store.approvals.get(a.id)?.status).toBe('pending');
      const res = await api(second.d, first.home, 'POST', `/api/approvals/${a.id}`, {
        decision: 'always',
      });
      expect(res.status).toBe(200);
      // `always` wrote the rule: the same call now runs without asking.
      expect(second.d.guard.rules('main')).toEqual([
        expect.objectContaining({ kind: 'tool', pattern: `Bash(${PUSH})`, effect: 'allow' }),
      ]);
      const again = runEnded(second.d);
      await say(second.d, 'web:main', 'push it again');
      expect((await again).status).toBe('ok');
      expect(model.seen.at(-1)).toContain('PUSH-STEP-RAN');
      expect(second.d.store.approvals.list({ status: 'all' })).toHaveLength(1);
    });
  },
);
