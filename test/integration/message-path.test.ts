import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { reply, scriptedRunner } from '../support/scripted-runner.js';
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

const isReply = (chat: string) => (m: { direction: string; chatJid: string }) =>
  m.direction === 'out' && m.chatJid === chat;

describe('message path', () => {
  it('answers a message in main without a trigger and records the run', async () => {
    const runner = scriptedRunner(({ prompt }) =>
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
    expect(d.store.groups.get('main')!.cursorSeq).toBe(final.seqEnd);
    expect(d.store.sessions.get('main', 'claude')).toBe('sess-1');
  });

  it('keeps untriggered messages as context and answers on the trigger', async () => {
    const runner = scriptedRunner(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    await say(d, 'web:team', 'context one', 'bob');
    await say(d, 'web:team', 'hi @AndyX not me', 'bob');
    expect(runner.started).toHaveLength(0);
    const out = nextMessage(d, isReply('web:team'));
    await say(d, 'web:team', '@andy what did bob say?', 'carol');
    await out;
    expect(runner.started).toHaveLength(1);
    const prompt = runner.started[0]!.prompt;
    expect(prompt).toContain('context one');
    expect(prompt).toContain('hi @AndyX not me');
    expect(prompt).toContain('sender="carol"');
  });

  it('never enters the bot own messages into a prompt', async () => {
    const runner = scriptedRunner(({ call }) => reply(`answer ${call}`));
    const d = await boot(tempHome(), runner);
    let out = nextMessage(d, isReply('web:main'));
    const ended = runEnded(d);
    await say(d, 'web:main', 'first');
    await Promise.all([out, ended]);
    out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'second');
    await out;
    const second = runner.started[1]!.prompt;
    expect(second).toContain('second');
    expect(second).not.toContain('answer 0');
    expect(second).not.toContain('first');
  });

  it('summarises a batch over the cap instead of skipping, and consumes all of it', async () => {
    const runner = scriptedRunner(() => reply('done'));
    const d = await boot(tempHome('router: { maxPromptMessages: 5 }\n'), runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    for (let i = 1; i <= 12; i++) await say(d, 'web:team', `msg ${i}`);
    const out = nextMessage(d, isReply('web:team'));
    const last = await say(d, 'web:team', '@Andy summarise');
    await out;
    const prompt = runner.started[0]!.prompt;
    expect(prompt).toContain('<note>8 earlier messages not shown</note>');
    expect(prompt).toContain('msg 12');
    expect(prompt).not.toContain('msg 8<');
    expect(d.store.groups.get('team')!.cursorSeq).toBe(last.seq);
  });

  it('strips <internal> and sends nothing for an empty reply', async () => {
    const runner = scriptedRunner(({ call }) =>
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
    const runner = scriptedRunner(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    const msg = { chatJid: 'web:main', platformId: 'same', sender: 'a', text: 'hi', ts: 1 };
    const a = await d.router.receive(msg);
    const b = await d.router.receive(msg);
    expect(b).toEqual({ seq: a.seq, duplicate: true });
  });

  it('records messages from unbound chats for discovery without running', async () => {
    const runner = scriptedRunner(() => reply('ok'));
    const d = await boot(tempHome(), runner);
    await say(d, 'web:stranger', '@Andy hello?');
    expect(runner.started).toHaveLength(0);
    expect(d.store.chats.list().find((c) => c.jid === 'web:stranger')?.group).toBeNull();
  });

  it('hands a follow-up to the live run, which answers it in the same run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = scriptedRunner(
      async ({ id }) => {
        if (id === 0) await gate;
        return reply(`answer to input ${id}`, id);
      },
      { stayAlive: true },
    );
    const d = await boot(tempHome(), runner);
    await say(d, 'web:main', 'first');
    const first = nextMessage(d, (m) => m.direction === 'out' && m.text === 'answer to input 1');
    await d.executor.submitMessages('main');
    await say(d, 'web:main', 'second');
    release();
    await first;
    expect(runner.started).toHaveLength(1);
    expect(runner.inputs.map((i) => i.id)).toEqual([0, 1]);
    expect(runner.inputs[1]!.prompt).toContain('second');
    expect(runner.inputs[1]!.prompt).not.toContain('first');
    const run = d.store.runs.list()[0]!;
    expect(d.store.groups.get('main')!.cursorSeq).toBe(run.seqEnd);
  });

  it('tells the chat which credential to set when the claude harness has none', async () => {
    const runner = scriptedRunner(() => reply('never'), { harness: 'codex' });
    // runtime none: always available, so the credential check is what answers.
    const d = await boot(tempHome('runtime: none\n'), runner);
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    const msg = await out;
    expect(msg.text).toContain('ANTHROPIC_API_KEY');
    expect(msg.text).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(d.store.runs.list()[0]!.status).toBe('error');
  });

  it('tells the chat what to configure when the harness is unavailable', async () => {
    const runner = scriptedRunner(() => reply('never'), { harness: 'codex' });
    const d = await boot(tempHome(), runner);
    // This build registers a sandboxed claude runner: take it out to see the "unavailable" answer.
    d.runners['runners'].delete('claude');
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    const msg = await out;
    expect(msg.text).toContain('"claude" agent harness is not available');
    expect(msg.text).toContain('clawpod groups set main harness=');
    expect(d.store.runs.list()[0]!.status).toBe('error');
  });

  it('a non-retryable runner error is answered at once, without retries', async () => {
    const runner = scriptedRunner(() => [
      { type: 'error', message: 'Set ANTHROPIC_API_KEY in ~/.clawpod/.env', retryable: false },
    ]);
    const d = await boot(tempHome(), runner);
    const out = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'hello');
    expect((await out).text).toContain('ANTHROPIC_API_KEY');
    expect(runner.started).toHaveLength(1);
  });

  it('closes an idle warm agent when another group waits for the only slot', async () => {
    const runner = scriptedRunner(({ id }) => reply(`warm answer ${id}`, id), { stayAlive: true });
    const d = await boot(tempHome('limits: { maxConcurrentRuns: 1 }\n'), runner);
    d.groups.add({ name: 'b', chats: ['web:b'], requiresTrigger: false });
    const first = nextMessage(d, isReply('web:main'));
    await say(d, 'web:main', 'keep me warm');
    await first;
    expect(d.executor.liveCount()).toBe(1);
    const second = nextMessage(d, isReply('web:b'));
    await say(d, 'web:b', 'my turn');
    expect((await second).text).toBe('warm answer 0');
    expect(runner.started.map((s) => s.group.folder)).toEqual(['main', 'b']);
  });
});
