import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { nextMessage, runEnded, say, startDaemon, tempHome } from '../support/daemon-harness.js';

const daemons: Daemon[] = [];
async function boot(home: string, runner: Parameters<typeof startDaemon>[1][number]) {
  const d = await startDaemon(home, [runner]);
  daemons.push(d);
  return d;
}
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const isReply = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

describe('message path', () => {
  it('answers a message in main without a trigger and records the run', async () => {
    const runner = scriptedLauncher(({ prompt }) =>
      reply(`got ${prompt.includes('hello') ? 'hello' : '?'}`),
    );
    const d = await boot(tempHome(), runner);
    const out = nextMessage(d, isReply('web:main'));
    const ended = runEnded(d);
    await say(d, 'web:main', 'hello');
    expect((await out).text).toBe('got hello');
    const final = d.store.runs.get((await ended).id)!;
    expect(final.status).toBe('ok');
    expect(final.usage.inputTokens).toBe(10);
    expect(d.store.cursors.get('web:main')).toBe(final.seqEnd);
    expect(d.store.resumeIds.get('main', 'claude')).toBe('sess-1');
  });

  it('keeps untriggered messages as context and answers on the trigger', async () => {
    const runner = scriptedLauncher(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    await say(d, 'web:team', 'context one', 'bob');
    await say(d, 'web:team', 'hi @AndyX not me', 'bob');
    expect(runner.started).toHaveLength(0);
    const out = nextMessage(d, isReply('web:team'));
    await say(d, 'web:team', '@andy what did bob say?', 'carol');
    await out;
    expect(runner.started).toHaveLength(1);
    const prompt = runner.inputs[0]!.prompt;
    expect(prompt).toContain('context one');
    expect(prompt).toContain('hi @AndyX not me');
    expect(prompt).toContain('sender="carol"');
  });

  it('never enters the bot own messages into a prompt', async () => {
    const runner = scriptedLauncher(({ call }) => reply(`answer ${call}`));
    const d = await boot(tempHome(), runner);
    let out = nextMessage(d, isReply('web:main'));
    const ended = runEnded(d);
    await say(d, 'web:main', 'first');
    await Promise.all([out, ended]);
    out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'second');
    await out;
    const second = runner.inputs[1]!.prompt;
    expect(second).toContain('second');
    expect(second).not.toContain('answer 0');
    expect(second).not.toContain('first');
  });

  it('summarises a batch over the cap instead of skipping, and consumes all of it', async () => {
    const runner = scriptedLauncher(() => reply('done'));
    const d = await boot(tempHome('router: { maxPromptMessages: 5 }\n'), runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    for (let i = 1; i <= 12; i++) await say(d, 'web:team', `msg ${i}`);
    const out = nextMessage(d, isReply('web:team'));
    const last = await say(d, 'web:team', '@Andy summarise');
    await out;
    const prompt = runner.inputs[0]!.prompt;
    expect(prompt).toContain('<note>8 earlier messages not shown</note>');
    expect(prompt).toContain('msg 12');
    expect(prompt).not.toContain('msg 8<');
    expect(d.store.cursors.get('web:team')).toBe(last.seq);
  });

  it('strips <internal> and sends nothing for an empty reply', async () => {
    const runner = scriptedLauncher(({ call }) =>
      call === 0 ? reply('<internal>thinking</internal>') : reply('<internal>x</internal>visible'),
    );
    const d = await boot(tempHome(), runner);
    const ended = runEnded(d);
    await say(d, 'web:main', 'one');
    await ended;
    expect(
      d.store.messages.listChat('web:main', 0).filter((m) => m.direction === 'out'),
    ).toHaveLength(0);
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'two');
    expect((await out).text).toBe('visible');
  });

  it('stores a redelivered platform message once', async () => {
    const runner = scriptedLauncher(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    const msg = { chatId: 'web:main', platformId: 'same', sender: 'a', text: 'hi', ts: 1 };
    const a = await d.router.receive(msg);
    const b = await d.router.receive(msg);
    expect(b).toEqual({ seq: a.seq, duplicate: true, wakes: false, quiet: 'a redelivery' });
  });

  it('records messages from unbound chats for discovery without running', async () => {
    const runner = scriptedLauncher(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    await say(d, 'web:stranger', '@Andy hello?');
    expect(runner.started).toHaveLength(0);
    expect(d.store.chats.list().find((c) => c.jid === 'web:stranger')?.group).toBeNull();
  });

  it('a follow-up in the same chat is its own run, answered by the same live session', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = scriptedLauncher(async ({ id }) => {
      if (id === 0) await gate;
      return reply(`answer to input ${id}`);
    });
    const d = await boot(tempHome(), runner);
    const firstEnded = runEnded(d);
    await say(d, 'web:main', 'first');
    const second = nextMessage(d, (m) => m.direction === 'out' && m.text === 'answer to input 1');
    await say(d, 'web:main', 'second'); // arrives while the first turn is busy
    release();
    const firstRun = d.store.runs.get((await firstEnded).id)!;
    expect(firstRun.status).toBe('ok');
    await second;
    expect(runner.started).toHaveLength(1);
    expect(runner.inputs.map((i) => i.id)).toEqual([0, 1]);
    expect(runner.inputs[1]!.prompt).toContain('second');
    expect(runner.inputs[1]!.prompt).not.toContain('first');
    const runs = d.store.runs.list();
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(new Set(runs.map((r) => r.sessionId)).size).toBe(1);
    expect(d.store.cursors.get('web:main')).toBe(runs[0]!.seqEnd);
  });

  it('tells the chat which credential to set when the claude harness has none', async () => {
    const runner = scriptedLauncher(() => reply('never'), { harness: 'codex' });
    // runtime none: always available, so the credential check is what answers.
    const d = await boot(tempHome('runtime: none\n'), runner);
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    const msg = await out;
    expect(msg.text).toContain('ANTHROPIC_API_KEY');
    expect(msg.text).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(d.store.runs.list()[0]!.status).toBe('dead');
  });

  it('tells the chat what to configure when the harness is unavailable', async () => {
    const runner = scriptedLauncher(() => reply('never'), { harness: 'codex' });
    const d = await boot(tempHome(), runner);
    // This build registers a sandboxed claude launcher: take it out to see the "unavailable" answer.
    d.launchers['launchers'].delete('claude');
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    const msg = await out;
    expect(msg.text).toContain('"claude" agent harness is not available');
    expect(msg.text).toContain('clawpod groups set main harness=');
    expect(d.store.runs.list()[0]!.status).toBe('dead');
  });

  it('a non-retryable runner error is answered at once, without retries', async () => {
    const runner = scriptedLauncher(() => [
      { type: 'error', message: 'Set ANTHROPIC_API_KEY in ~/.clawpod/.env', retryable: false },
    ]);
    const d = await boot(tempHome(), runner);
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    expect((await out).text).toContain('ANTHROPIC_API_KEY');
    expect(runner.started).toHaveLength(1);
  });

  it('closes an idle session when another group needs the only slot', async () => {
    const runner = scriptedLauncher(({ id }) => reply(`warm answer ${id}`));
    const d = await boot(tempHome('limits: { maxConcurrentRuns: 1 }\n'), runner);
    d.groups.add({ name: 'b', chats: ['web:b'], requiresTrigger: false });
    const first = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'keep me warm');
    await first;
    expect(d.pool.list().map((s) => [s.meta.group, s.state.name])).toEqual([['main', 'idle']]);
    const second = nextMessage(d, isReply('web:b'));
    await say(d, 'web:b', 'my turn');
    expect((await second).text).toBe('warm answer 0');
    expect(runner.started.map((s) => s.group.folder)).toEqual(['main', 'b']);
    const mainSession = d.store.agentSessions.get(runner.started[0]!.sessionId)!;
    expect(mainSession).toMatchObject({ state: 'closed', endReason: 'made room for other work' });
    expect(d.store.runs.list().every((r) => r.status === 'ok')).toBe(true);
  });
});
