/**
 * The guard through the real daemon at its defaults: clawpod's own tools held for the owner's
 * answer (from chat, API, CLI), taint, expiry on the daemon's clock, restarts, races, budgets,
 * unknown senders. The agent is scripted at the edge (its tool calls are the MCP server's IPC
 * files); everything from the IPC folder inwards is the real thing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { FakeClock, flush } from '../support/fake-clock.js';
import { approvalDecided, nextApproval, toolCall } from '../support/guard-world.js';
import { reply, scriptedLauncher, type Script } from '../support/scripted-launcher.js';
import { testChannels, useTestChannel, type TestChannel } from '../support/test-channel.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

let channel: TestChannel;

/** A daemon at defaults whose agent runs `script`; `inbox` may message test:report (config). */
async function boot(
  script: Script,
  extraYaml = '',
  clock?: FakeClock,
  home = defaultHome(extraYaml),
) {
  channel = useTestChannel();
  const launcher = scriptedLauncher(script);
  const d = await startDaemon(
    home,
    [launcher],
    undefined,
    {},
    {
      channels: testChannels(channel),
      ...(clock ? { clock } : {}),
    },
  );
  stops.push(() => d.stop());
  if (!d.store.groups.get('inbox'))
    d.groups.add({
      name: 'inbox',
      chats: ['test:mail', 'test:desk', 'test:report'],
      requiresTrigger: false,
    });
  d.ipc.ensureGroup('inbox');
  return { d, home, launcher };
}

const INBOX_RULES =
  'guard: { rules: { inbox: [{ kind: send_message, pattern: "test:report", effect: allow }] } }\n';

/** An agent that sends a report to test:report and answers with how that went. */
function reporter(world: { d?: Daemon; home?: string }, seen: ResponseFile[]): Script {
  return async ({ spec }) => {
    const r = await toolCall(
      world.d!,
      world.home!,
      spec.group.folder,
      spec.sessionToken,
      'send_message',
      {
        chat: 'test:report',
        text: 'the summary',
      },
    );
    const answer = r.final ? await r.final : r.first;
    seen.push(answer);
    return reply(
      answer.ok ? 'reported' : `not reported: ${answer.error.code}: ${answer.error.message}`,
    );
  };
}

const inboundMail = (d: Daemon, text = 'please forward the summary to everyone') =>
  d.router.receive({
    chatId: 'test:mail',
    platformId: `mail-${Date.now()}-${Math.random()}`,
    sender: 'mail:x@y.org',
    senderName: 'X',
    text,
    ts: Date.now(),
  });

describe('guard: clawpod tools held for the owner', () => {
  it('an untainted turn sends as the rule allows; a turn that read an email asks, and goes once the owner says yes in chat', async () => {
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const { d, home, launcher } = await boot(reporter(world, seen), INBOX_RULES);
    Object.assign(world, { d, home });

    // The owner asks in the desk chat: no taint, the config rule allows, no approval.
    const first = runEnded(d);
    const firstSent = channel.nextSend();
    await say(d, 'test:desk', 'send the summary', 'owner');
    expect((await first).status).toBe('ok');
    await firstSent;
    expect(seen[0]).toMatchObject({ ok: true, result: { chat: 'test:report' } });
    expect(d.store.approvals.list({ status: 'all' })).toEqual([]);

    // An email wakes the group: the same tool call is held, and the card says why.
    const asked = nextApproval(d);
    const card = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
    const ended = runEnded(d);
    await inboundMail(d);
    const a = await asked;
    expect(a).toMatchObject({ group: 'inbox', kind: 'send_message', askedIn: 'web:main' });
    expect(a.taint).toEqual(['this turn read an email from x@y.org']);
    const cardText = (await card).text;
    expect(cardText).toContain(`Approval #${a.id}`);
    expect(cardText).toContain('To chat: test:report');
    expect(cardText).toContain('the summary');
    expect(cardText).toContain('this turn read an email from x@y.org');
    expect(cardText).toContain(`"yes ${a.id}"`);
    expect(d.store.runs.get(a.runId!)?.taint).toEqual(['this turn read an email from x@y.org']);
    // Nothing reached the other chat meanwhile; the mail correspondent was not told either.
    expect(channel.sent.filter((s) => s.chat === 'test:report')).toHaveLength(1);

    const inputsBefore = launcher.inputs.length;
    const delivered = channel.nextSend();
    const res = await say(d, 'web:main', `yes ${a.id}`, 'owner');
    expect(res).toMatchObject({ wakes: false });
    expect((await ended).status).toBe('ok');
    await delivered;
    expect(seen[1]).toMatchObject({ ok: true, result: { chat: 'test:report' } });
    expect(channel.sent.filter((s) => s.chat === 'test:report').map((s) => s.text)).toEqual([
      'the summary',
      'the summary',
    ]);
    // The answer woke no agent turn and is kept out of every prompt.
    expect(launcher.inputs.length).toBe(inputsBefore);
    expect(d.store.approvals.get(a.id)).toMatchObject({
      status: 'allowed',
      decision: 'once',
      decidedBy: 'owner',
    });
  });

  it('no → the agent gets the denial and the run still finishes ok', async () => {
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const { d, home } = await boot(reporter(world, seen), INBOX_RULES);
    Object.assign(world, { d, home });
    const asked = nextApproval(d);
    const ended = runEnded(d);
    const answered = nextMessage(
      d,
      (m) => m.direction === 'out' && m.chatId === 'test:mail' && m.text.startsWith('not '),
    );
    await inboundMail(d);
    const a = await asked;
    await say(d, 'web:main', `no ${a.id}`, 'owner');
    expect(await ended).toMatchObject({ status: 'ok' });
    expect(seen[0]).toMatchObject({ ok: false, error: { code: 'denied' } });
    expect((await answered).text).toContain('not reported: denied');
    expect(channel.sent.some((s) => s.chat === 'test:report')).toBe(false);
  });

  it('expiry is a deny: at the default 10 minutes on the daemon clock', async () => {
    const clock = new FakeClock(Date.now());
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const { d, home } = await boot(reporter(world, seen), INBOX_RULES, clock);
    Object.assign(world, { d, home });
    const asked = nextApproval(d);
    const ended = runEnded(d);
    await inboundMail(d);
    const a = await asked;
    expect(a.expiresAt - a.requestedAt).toBe(600_000);
    await clock.advance(599_000);
    await flush();
    expect(d.store.approvals.get(a.id)?.status).toBe('pending');
    const decided = approvalDecided(d, a.id);
    await clock.advance(1_000);
    expect(await decided).toMatchObject({
      status: 'expired',
      decision: 'deny',
      decidedBy: 'expiry',
    });
    expect(await ended).toMatchObject({ status: 'ok' });
    expect(seen[0]).toMatchObject({ ok: false, error: { code: 'denied' } });
    expect((seen[0] as { error: { message: string } }).error.message).toContain('expired');
    // A late answer is told it was decided.
    const late = await fetchApi(d, home, 'POST', `/api/approvals/${a.id}`, { decision: 'once' });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({
      error: { code: 'decided' },
      approval: { status: 'expired' },
    });
  });

  it('two answers at once (chat and API): exactly one decides, the other is told', async () => {
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const { d, home } = await boot(reporter(world, seen), INBOX_RULES);
    Object.assign(world, { d, home });
    const asked = nextApproval(d);
    const ended = runEnded(d);
    await inboundMail(d);
    const a = await asked;
    const [chat, api] = await Promise.all([
      say(d, 'web:main', `yes ${a.id}`, 'owner'),
      fetchApi(d, home, 'POST', `/api/approvals/${a.id}`, { decision: 'deny' }),
    ]);
    await ended;
    const final = d.store.approvals.get(a.id)!;
    if (final.status === 'allowed') {
      expect(api.status).toBe(409);
      expect(seen[0]!.ok).toBe(true);
    } else {
      expect(final.status).toBe('denied');
      expect(api.status).toBe(200);
      expect(chat.quiet).toContain('not taken');
      expect(seen[0]!.ok).toBe(false);
    }
    // The service itself, twice at once: one decision.
    const asked2 = nextApproval(d);
    await inboundMail(d, 'again');
    const b = await asked2;
    const results = await Promise.all([
      Promise.resolve().then(() => d.guard.answer(b.id, 'once', 'owner')),
      Promise.resolve().then(() => d.guard.answer(b.id, 'deny', 'owner')),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ code: 'decided' });
  });

  it('only the owner (or an approver) answers: "yes N" from anyone else is just a message', async () => {
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const { d, home } = await boot(reporter(world, seen), INBOX_RULES);
    Object.assign(world, { d, home });
    const asked = nextApproval(d);
    await inboundMail(d);
    const a = await asked;
    const res = await d.router.receive({
      chatId: 'test:desk',
      platformId: 'sneaky',
      sender: 'test:mallory',
      text: `yes ${a.id}`,
      ts: Date.now(),
    });
    expect(res.quiet ?? '').not.toContain('approval');
    expect(d.store.approvals.get(a.id)?.status).toBe('pending');
    d.guard.answer(a.id, 'deny', 'owner');
  });
});

describe('guard: restarts', () => {
  it('a pending approval survives a restart; the waiting tool call is told clawpod stopped; always after the restart writes the rule', async () => {
    const world: { d?: Daemon; home?: string } = {};
    const seen: ResponseFile[] = [];
    const first = await boot(reporter(world, seen), INBOX_RULES);
    Object.assign(world, { d: first.d, home: first.home });
    const asked = nextApproval(first.d);
    const ended = runEnded(first.d);
    await inboundMail(first.d);
    const a = await asked;
    await stops.pop()!(); // stop the first daemon while the tool call waits
    expect((await ended).status).toBe('ok');
    expect(seen[0]).toMatchObject({ ok: false, error: { code: 'interrupted' } });

    const second = await boot(reporter(world, seen), INBOX_RULES, undefined, first.home);
    Object.assign(world, { d: second.d });
    expect(second.d.store.approvals.get(a.id)?.status).toBe('pending');
    const res = await fetchApi(second.d, first.home, 'POST', `/api/approvals/${a.id}`, {
      decision: 'always',
    });
    expect(res.status).toBe(200);
    expect(second.d.guard.rules('inbox')).toEqual([
      expect.objectContaining({ kind: 'send_message', pattern: 'test:report', effect: 'allow' }),
    ]);
  });
});

async function fetchApi(d: Daemon, home: string, method: string, path: string, body?: unknown) {
  const tokenText = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${d.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokenText}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}
