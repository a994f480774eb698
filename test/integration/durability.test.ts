import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { Store } from '../../src/store/store.js';
import { join } from 'node:path';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import {
  nextMessage,
  runEnded,
  say,
  startDaemon as startWith,
  tempHome,
} from '../support/daemon-harness.js';
import { testChannels, useTestChannel, type TestChannel } from '../support/test-channel.js';

let channel: TestChannel;
beforeAll(() => {
  channel = useTestChannel();
});
/** Every daemon here has the test channel besides the built-in ones. */
const startDaemon: typeof startWith = (home, launchers, before, env, options) =>
  startWith(home, launchers, before, env, { channels: testChannels(channel), ...options });
const daemons: Daemon[] = [];
async function boot(home: string, runner: Parameters<typeof startDaemon>[1][number]) {
  const d = await startDaemon(home, [runner]);
  daemons.push(d);
  return d;
}
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  channel.failForever = false;
  channel.failNext = 0;
  channel.answerGate = undefined;
  channel.sent.length = 0;
});
const outIn = (chat: string) => (m: { direction: string; chatId: string }) =>
  m.direction === 'out' && m.chatId === chat;

describe('retries and dead letters', () => {
  it('retries a failing run 5 times on its own, then dead-letters and tells owner and chat', async () => {
    const runner = scriptedLauncher(() => [{ type: 'error', message: 'model overloaded' }]);
    const home = tempHome();
    const d = await boot(home, runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    const notice = nextMessage(d, outIn('web:main'));
    const chatNotice = nextMessage(d, outIn('web:team'));
    const msg = await say(d, 'web:team', '@Andy do it');
    const told = (await notice).text;
    expect(told).toMatch(
      /Group "team": a run failed 5 times and was dead-lettered.*model overloaded/,
    );
    // The owner is told how to act on it, by the dead letter's id.
    const id = d.store.deadLetters.list()[0]!.id;
    expect(told).toContain(`dead letter #${id}: \`clawpod deadletters retry ${id}\``);
    expect((await chatNotice).text).toContain('could not answer');
    expect(runner.started).toHaveLength(5);
    expect(new Set(runner.inputs.map((s) => s.prompt)).size).toBe(1);
    expect(
      d.store.runs
        .list()
        .map((r) => r.attempt)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    const [dead] = d.store.deadLetters.list();
    expect(dead).toMatchObject({
      kind: 'run',
      group: 'team',
      seqEnd: msg.seq,
      error: 'model overloaded',
    });
    expect(d.store.cursors.get('web:team')).toBe(msg.seq);
  });

  it("a run dead-lettered in main's web chat tells that chat, and the owner in their own chat", async () => {
    const runner = scriptedLauncher(() => [{ type: 'error', message: 'model overloaded' }]);
    const d = await boot(tempHome("owner: { ids: ['test:olga'] }\n"), runner);
    // The owner's chat: main's chat that pushes to them (the test channel), not web:main.
    d.groups.bind('main', 'test:olga');
    const notice = nextMessage(d, outIn('test:olga'));
    const chatNotice = nextMessage(d, outIn('web:main'));
    await say(d, 'web:main', 'do it');
    // (The test channel's messages are short: this is the notice's first piece.)
    expect((await notice).text).toMatch(/^⚠️ Group "main": a run failed 5 times/);
    expect((await chatNotice).text).toContain('could not answer');
  });

  it('re-runs the same batch when the agent answered but died before its turn committed', async () => {
    // The first agent says something, then dies before its turn ends (no result).
    const runner = scriptedLauncher(({ call }) =>
      call === 0 ? [{ type: 'message', text: 'lost answer' }] : reply('real answer'),
    );
    const d = await boot(tempHome(), runner);
    const out = nextMessage(d, outIn('web:main'));
    await say(d, 'web:main', 'question');
    expect((await out).text).toBe('real answer');
    expect(runner.started).toHaveLength(2);
    expect(runner.inputs[1]!.prompt).toBe(runner.inputs[0]!.prompt);
    const texts = d.store.messages
      .listChat('web:main', 0)
      .filter((m) => m.direction === 'out')
      .map((m) => m.text);
    expect(texts).toEqual(['real answer']);
  });

  it('re-runs a batch whose run was cut by a crash (run left running) after restart', async () => {
    const home = tempHome();
    const store = Store.open(join(home, 'clawpod.db'));
    // State as a crash leaves it: message stored, run started, nothing committed.
    const { GroupService } = await import('../../src/groups/group-service.js');
    const { dataPaths } = await import('../../src/config/load.js');
    new GroupService(store, dataPaths(home)).ensureMain();
    const { seq } = store.messages.insert({
      chatId: 'web:main',
      platformId: 'm1',
      sender: 'o',
      text: 'before crash',
      ts: 1,
      wakes: true,
    });
    store.cursors.ensure('web:main', seq);
    store.runs.start({
      id: 'run_crashed',
      group: 'main',
      kind: 'message',
      chatId: 'web:main',
      seqStart: seq,
      seqEnd: seq,
      attempt: 1,
      now: 1,
    });
    store.close();
    const runner = scriptedLauncher(() => reply('after restart'));
    let reply$!: ReturnType<typeof nextMessage>;
    const d = await startDaemon(
      home,
      [runner],
      (x) => (reply$ = nextMessage(x, outIn('web:main'))),
    );
    daemons.push(d);
    const out = await reply$;
    expect(out.text).toBe('after restart');
    expect(d.store.runs.get('run_crashed')!.status).toBe('interrupted');
    expect(runner.inputs[0]!.prompt).toContain('before crash');
  });
});

describe('outbox', () => {
  it('delivers a committed reply once after a restart when delivery failed before the stop', async () => {
    const home = tempHome();
    const runner = scriptedLauncher(() => reply('hello test chat'));
    channel.failForever = true;
    const d1 = await startDaemon(home, [runner]);
    d1.groups.add({ name: 'tg', chats: ['test:1'], requiresTrigger: false });
    const ended = runEnded(d1);
    await say(d1, 'test:1', 'hi');
    await ended;
    expect(d1.store.outbox.countByStatus().pending + d1.store.outbox.countByStatus().sending).toBe(
      1,
    );
    await d1.stop();
    channel.failForever = false;
    let delivered!: ReturnType<typeof nextMessage>;
    daemons.push(
      await startDaemon(home, [runner], (x) => (delivered = nextMessage(x, outIn('test:1')))),
    );
    await delivered;
    expect(channel.sent.map((s) => s.text)).toEqual(['hello test chat']);
    expect(runner.started).toHaveLength(1);
  });

  it('enqueueing the same logical reply twice delivers it once', async () => {
    const d = await boot(
      tempHome(),
      scriptedLauncher(() => reply('x')),
    );
    d.groups.add({ name: 'tg', chats: ['test:2'] });
    const delivered = nextMessage(d, outIn('test:2'));
    expect(d.outbox.enqueue({ key: 'k1', chatId: 'test:2', text: 'once' })).toBe(1);
    expect(d.outbox.enqueue({ key: 'k1', chatId: 'test:2', text: 'once' })).toBe(0);
    d.outbox.kick();
    await delivered;
    d.outbox.kick();
    expect(channel.sent.filter((s) => s.text === 'once')).toHaveLength(1);
  });

  it('retries a failing channel, then dead-letters with a notice to the owner', async () => {
    const d = await boot(
      tempHome(),
      scriptedLauncher(() => reply('x')),
    );
    d.groups.add({ name: 'tg', chats: ['test:3'] });
    channel.failForever = true;
    const notice = nextMessage(d, outIn('web:main'));
    d.outbox.enqueue({ key: 'k-dead', chatId: 'test:3', text: 'doomed' });
    d.outbox.kick();
    expect((await notice).text).toContain('could not be delivered after 5 attempts');
    expect(d.store.outbox.byKey('k-dead')).toMatchObject({ status: 'dead', attempts: 5 });
    expect(d.store.deadLetters.list()[0]).toMatchObject({
      kind: 'outbox',
      ref: 'k-dead',
      group: 'tg',
    });
  });

  it('recovers from transient send failures without losing the reply', async () => {
    const d = await boot(
      tempHome(),
      scriptedLauncher(() => reply('x')),
    );
    d.groups.add({ name: 'tg', chats: ['test:4'] });
    channel.failNext = 2;
    const delivered = nextMessage(d, outIn('test:4'));
    d.outbox.enqueue({ key: 'k-flaky', chatId: 'test:4', text: 'eventually' });
    d.outbox.kick();
    await delivered;
    expect(d.store.outbox.byKey('k-flaky')).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('keeps a chat in order when a piece waits for its retry', async () => {
    const d = await boot(
      tempHome(),
      scriptedLauncher(() => reply('x')),
    );
    d.groups.add({ name: 'ord', chats: ['test:ord'] });
    channel.failNext = 1;
    let count = 0;
    const both = new Promise<void>((resolve) =>
      d.bus.on('message', (m) => {
        if (m.chatId === 'test:ord' && m.direction === 'out' && ++count === 2) resolve();
      }),
    );
    d.outbox.enqueue({ key: 'o1', chatId: 'test:ord', text: 'first' });
    d.outbox.enqueue({ key: 'o2', chatId: 'test:ord', text: 'second' });
    d.outbox.kick();
    await both;
    expect(channel.sent.filter((s) => s.chat === 'test:ord').map((s) => s.text)).toEqual([
      'first',
      'second',
    ]);
  });

  it('splits a long reply to the channel limit, in order', async () => {
    const d = await boot(
      tempHome(),
      scriptedLauncher(() => reply('x')),
    );
    d.groups.add({ name: 'tg', chats: ['test:5'] });
    const text = Array.from({ length: 12 }, (_, i) => `line number ${i}`).join('\n');
    let count = 0;
    const all = new Promise<void>((resolve) =>
      d.bus.on('message', (m) => {
        if (m.chatId === 'test:5' && m.direction === 'out' && ++count === 4) resolve();
      }),
    );
    d.outbox.enqueue({ key: 'k-long', chatId: 'test:5', text });
    d.outbox.kick();
    await all;
    const sent = channel.sent.filter((s) => s.chat === 'test:5');
    expect(sent.every((s) => s.text.length <= 50)).toBe(true);
    expect(sent.map((s) => s.text).join('\n')).toBe(text);
    expect(sent.map((s) => s.idemKey)).toEqual(['k-long#1', 'k-long#2', 'k-long#3', 'k-long#4']);
  });
});

describe('shutdown', () => {
  it('records a delivery in flight at SIGTERM before closing, so the next start does not send it again', async () => {
    const home = tempHome();
    let answer!: () => void;
    channel.answerGate = new Promise<void>((r) => (answer = r));
    // The platform answers the send once the daemon waits for it (or, without that wait, once
    // the daemon has stopped: then the answer finds the store closed).
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          if (chunk.toString('utf8').includes('waiting for deliveries in flight')) answer();
          done();
        },
      }),
    );
    const runner = scriptedLauncher(() => reply('in flight at stop'));
    const config = loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH });
    const d1 = new Daemon({ config, log, launchers: [runner], channels: testChannels(channel) });
    await d1.start();
    d1.groups.add({ name: 'slow', chats: ['test:slow'], requiresTrigger: false });
    const taken = channel.nextSend();
    await say(d1, 'test:slow', 'hi');
    await taken; // the platform has the reply; its answer is not back yet
    await d1.stop().finally(() => answer());
    const store = Store.open(join(home, 'clawpod.db'));
    const [row] = store.db.prepare("SELECT status FROM outbox WHERE chat_jid = 'test:slow'").all();
    store.close();
    expect(row).toEqual({ status: 'sent' });
    const d2 = await startDaemon(home, [runner]);
    daemons.push(d2);
    const { pending, sending } = d2.store.outbox.countByStatus();
    expect(pending + sending).toBe(0);
    expect(channel.sent.filter((s) => s.chat === 'test:slow')).toHaveLength(1);
  });

  it('lets the active run finish, keeps queued work pending, and runs it after restart', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = scriptedLauncher(async ({ call }) => {
      if (call === 0) await gate;
      return reply(`reply ${call}`);
    });
    const home = tempHome('limits: { maxConcurrentRuns: 1 }\n');
    const d1 = await startDaemon(home, [runner]);
    d1.groups.add({ name: 'b', chats: ['web:b'], requiresTrigger: false });
    await say(d1, 'web:main', 'slow one');
    await say(d1, 'web:b', 'waiting one');
    expect(runner.started).toHaveLength(1);
    const stopped = d1.stop();
    release();
    await stopped;
    expect(runner.started).toHaveLength(1);
    const store = Store.open(join(home, 'clawpod.db'));
    expect(store.messages.listChat('web:main', 0).some((m) => m.text === 'reply 0')).toBe(true);
    expect(store.messages.pendingForChat('web:b')).toHaveLength(1);
    store.close();
    let reply$!: ReturnType<typeof nextMessage>;
    daemons.push(
      await startDaemon(home, [runner], (x) => (reply$ = nextMessage(x, outIn('web:b')))),
    );
    const out = await reply$;
    expect(out.text).toBe('reply 1');
  });
});
