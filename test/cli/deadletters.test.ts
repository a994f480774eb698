import { beforeAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/config/load.js';
import { GroupService } from '../../src/groups/group-service.js';
import type { DeadLetter } from '../../src/store/dead-letters.js';
import { Store } from '../../src/store/store.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { testChannels, useTestChannel, type TestChannel } from '../support/test-channel.js';
import { cliEnv, closedPort, runCli } from './cli-helpers.js';

let channel: TestChannel;
let nobody: string;
beforeAll(async () => {
  channel = useTestChannel();
  nobody = `http://127.0.0.1:${await closedPort()}`;
});

/** A data dir with one dead reply (outbox) and one dead run, written as the daemon would. */
function seeded(): { home: string; reply: number; run: number } {
  const home = tempHome();
  const store = Store.open(dataPaths(home).db);
  try {
    new GroupService(store, dataPaths(home)).ensureMain();
    store.outbox.enqueue({ idemKey: 'k-cli', chatId: 'test:cli', text: 'the lost reply' }, 1);
    store.outbox.markDead(1, 'chat not found');
    const reply = store.deadLetters.add({
      kind: 'outbox',
      group: null,
      chatId: 'test:cli',
      ref: 'k-cli',
      seqStart: null,
      seqEnd: null,
      error: 'chat not found',
      createdAt: 2,
    });
    const run = store.deadLetters.add({
      kind: 'run',
      group: 'main',
      chatId: 'web:main',
      ref: 'run_x',
      seqStart: 1,
      seqEnd: 1,
      error: 'model overloaded',
      createdAt: 3,
    });
    return { home, reply, run };
  } finally {
    store.close();
  }
}

describe('clawpod deadletters without a daemon (the database)', () => {
  it('lists pending letters, shows one in full, and --json parses', async () => {
    const { home, reply, run } = seeded();
    const env = cliEnv(home, { CLAWPOD_URL: nobody });
    const list = await runCli(['deadletters', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`#${run} .* run +pending +main +run of main`));
    expect(list.stdout).toMatch(new RegExp(`#${reply} .* outbox +pending +- +reply to test:cli`));
    const json = JSON.parse(
      (await runCli(['deadletters', 'list', '--json'], env)).stdout,
    ) as DeadLetter[];
    expect(json.map((d) => d.id)).toEqual([run, reply]);

    const show = await runCli(['deadletters', 'show', String(reply)], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('the lost reply');
    expect(show.stdout).toContain('reply:     dead after 0 attempts');
    expect(show.stdout).toContain(`clawpod deadletters retry ${reply}`);
  });

  it('retry puts the reply back in the outbox; a run needs the daemon; discard marks it', async () => {
    const { home, reply, run } = seeded();
    const env = cliEnv(home, { CLAWPOD_URL: nobody });
    const r = await runCli(['deadletters', 'retry', String(reply)], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`dead letter #${reply} retried: the reply to test:cli is queued`);
    const again = await runCli(['deadletters', 'retry', String(reply)], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`dead letter #${reply} was already retried`);

    const runRetry = await runCli(['deadletters', 'retry', String(run)], env);
    expect(runRetry.code).toBe(1);
    expect(runRetry.stderr).toContain('needs the running daemon');
    expect((await runCli(['deadletters', 'discard', String(run)], env)).code).toBe(0);

    const store = Store.open(dataPaths(home).db);
    try {
      expect(store.outbox.byKey('k-cli')).toMatchObject({ status: 'pending', attempts: 0 });
      expect(store.deadLetters.list({ limit: 10 }).map((d) => [d.id, d.status])).toEqual([
        [run, 'discarded'],
        [reply, 'retried'],
      ]);
    } finally {
      store.close();
    }
    const all = await runCli(['deadletters', 'list', '--all'], env);
    expect(all.stdout).toMatch(/discarded/);
    expect((await runCli(['deadletters', 'list'], env)).stdout).toContain(
      'no pending dead letters',
    );
  });

  it('usage errors exit 2; an unknown id exits 1', async () => {
    const env = cliEnv(tempHome(), { CLAWPOD_URL: nobody });
    expect((await runCli(['deadletters', 'show', 'abc'], env)).code).toBe(2);
    expect((await runCli(['deadletters', 'list', '--status', 'lost'], env)).code).toBe(2);
    const missing = await runCli(['deadletters', 'discard', '42'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter #42');
  });
});

describe('clawpod deadletters with a running daemon (through the API)', () => {
  it('retry wakes the outbox: the reply is delivered once', async () => {
    const home = tempHome();
    const d = await startDaemon(
      home,
      [scriptedLauncher(() => reply('x'))],
      undefined,
      {},
      {
        channels: testChannels(channel),
      },
    );
    try {
      d.groups.add({ name: 'tg', chats: ['test:cli2'] });
      channel.failForever = true;
      const told = nextMessage(d, (m) => m.chatId === 'web:main' && m.text.includes('test:cli2'));
      d.outbox.enqueue({ key: 'k-cli2', chatId: 'test:cli2', text: 'second chance' });
      d.outbox.kick();
      await told;
      channel.failForever = false;
      const [dl] = d.store.deadLetters.list({ status: 'pending' });
      const env = cliEnv(home, { CLAWPOD_URL: `http://127.0.0.1:${d.port}` });
      const delivered = nextMessage(d, (m) => m.chatId === 'test:cli2' && m.direction === 'out');
      const r = await runCli(['deadletters', 'retry', String(dl!.id), '--json'], env);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ id: dl!.id, status: 'retried' });
      await delivered;
      const twice = await runCli(['deadletters', 'retry', String(dl!.id)], env);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('already retried');
      expect(channel.sent.filter((s) => s.idemKey === 'k-cli2')).toHaveLength(1);
    } finally {
      channel.failForever = false;
      await d.stop();
    }
  });
});
