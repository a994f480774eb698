import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { DeadLetterDetail } from '../../src/delivery/dead-letter-service.js';
import type { DeadLetter } from '../../src/store/dead-letters.js';
import type { DaemonStatus } from '../../src/status.js';
import { nextMessage, startDaemon, tempHome, say } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { testChannels, useTestChannel, type TestChannel } from '../support/test-channel.js';

let channel: TestChannel;
beforeAll(() => {
  channel = useTestChannel();
});
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  channel.failForever = false;
  channel.failNext = 0;
  channel.sent.length = 0;
});

async function boot(runner = scriptedLauncher(() => reply('x'))) {
  const home = tempHome();
  const d = await startDaemon(home, [runner], undefined, {}, { channels: testChannels(channel) });
  daemons.push(d);
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const api = async <T>(method: string, path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`http://127.0.0.1:${d.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return { d, home, api };
}

type ApiErr = { error: { code: string; message: string } };

/** A reply to `chat` that failed every attempt: returns its dead letter id and the owner notice. */
async function deadReply(d: Daemon, chat: string, key: string, text: string) {
  channel.failForever = true;
  const notice = nextMessage(
    d,
    (m) => m.chatId === 'web:main' && m.direction === 'out' && m.text.includes(chat),
  );
  d.outbox.enqueue({ key, chatId: chat, text });
  d.outbox.kick();
  const told = await notice;
  channel.failForever = false;
  const [dl] = d.store.deadLetters.list({ status: 'pending' });
  return { id: dl!.id, notice: told.text };
}

/**
 * Waits until the outbox has worked through `chat`: a marker reply queued now is delivered
 * after anything due before it in that chat (delivery keeps each chat in order).
 */
async function drained(d: Daemon, chat: string) {
  const key = `marker-${Math.random()}`;
  const seen = nextMessage(d, (m) => m.chatId === chat && m.text === 'marker');
  d.outbox.enqueue({ key, chatId: chat, text: 'marker' });
  d.outbox.kick();
  await seen;
}

describe('dead letters: list, show, retry, discard (API)', () => {
  it('a retried reply reaches the channel exactly once, even when retry is called twice', async () => {
    const { d, api } = await boot();
    d.groups.add({ name: 'tg', chats: ['test:dl1'] });
    const { id, notice } = await deadReply(d, 'test:dl1', 'k-dl1', 'late but once');
    expect(notice).toContain(`dead letter #${id}: \`clawpod deadletters retry ${id}\``);
    expect(channel.sent).toEqual([]);

    const listed = await api<DeadLetter[]>('GET', '/api/deadletters');
    expect(listed.body.map((x) => [x.id, x.kind, x.status, x.ref])).toEqual([
      [id, 'outbox', 'pending', 'k-dl1'],
    ]);
    const shown = await api<DeadLetterDetail>('GET', `/api/deadletters/${id}`);
    expect(shown.body.reply).toMatchObject({ text: 'late but once', status: 'dead', attempts: 5 });

    const delivered = nextMessage(d, (m) => m.chatId === 'test:dl1' && m.direction === 'out');
    const [first, second] = await Promise.all([
      api<DeadLetter>('POST', `/api/deadletters/${id}/retry`),
      api<ApiErr>('POST', `/api/deadletters/${id}/retry`),
    ]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, status: 'retried' });
    expect(first.body.decidedAt).toBeGreaterThan(0);
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(`dead letter #${id} was already retried`);
    await delivered;

    // Retrying again after delivery changes nothing; a kick sends nothing more.
    const third = await api<ApiErr>('POST', `/api/deadletters/${id}/retry`);
    expect(third.status).toBe(409);
    await drained(d, 'test:dl1');
    expect(channel.sent.filter((s) => s.idemKey === 'k-dl1').map((s) => s.text)).toEqual([
      'late but once',
    ]);
    expect(d.store.outbox.byKey('k-dl1')).toMatchObject({ status: 'sent' });
    expect((await api<DeadLetter[]>('GET', '/api/deadletters')).body).toEqual([]);
    expect(
      (await api<DeadLetter[]>('GET', '/api/deadletters?status=retried')).body.map((x) => x.id),
    ).toEqual([id]);
  });

  it('a retried reply that fails again becomes a new dead letter and the owner is told again', async () => {
    const { d, api } = await boot();
    d.groups.add({ name: 'tg', chats: ['test:dl2'] });
    const first = await deadReply(d, 'test:dl2', 'k-dl2', 'still failing');
    channel.failForever = true;
    const again = nextMessage(
      d,
      (m) =>
        m.chatId === 'web:main' && m.direction === 'out' && m.text.includes('#' + (first.id + 1)),
    );
    expect((await api('POST', `/api/deadletters/${first.id}/retry`)).status).toBe(200);
    await again;
    const all = (await api<DeadLetter[]>('GET', '/api/deadletters?status=all')).body;
    expect(all.map((x) => [x.id, x.status])).toEqual([
      [first.id + 1, 'pending'],
      [first.id, 'retried'],
    ]);
    expect(d.store.outbox.byKey('k-dl2')).toMatchObject({ status: 'dead', attempts: 5 });
  });

  it('discard keeps the letter on record as discarded and never sends it', async () => {
    const { d, api } = await boot();
    d.groups.add({ name: 'tg', chats: ['test:dl3'] });
    const { id } = await deadReply(d, 'test:dl3', 'k-dl3', 'never');
    const res = await api<DeadLetter>('POST', `/api/deadletters/${id}/discard`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, status: 'discarded' });
    const retry = await api<ApiErr>('POST', `/api/deadletters/${id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toMatchObject({ code: 'conflict' });
    expect(retry.body.error.message).toContain('already discarded');
    await drained(d, 'test:dl3');
    expect(channel.sent.map((s) => s.text)).toEqual(['marker']);
    const status = (await api<DaemonStatus>('GET', '/api/status')).body;
    expect(status.deadLetters).toMatchObject({ count: 1, pending: 0 });
  });

  it('a run dead letter shows its messages; retry replays exactly that batch, answered once', async () => {
    let fail = true;
    const runner = scriptedLauncher(({ prompt }) =>
      fail ? [{ type: 'error', message: 'model overloaded' }] : reply(`answered: ${prompt.length}`),
    );
    const { d, api } = await boot(runner);
    d.groups.add({ name: 'team', chats: ['web:team'] });
    const told = nextMessage(
      d,
      (m) => m.chatId === 'web:main' && m.direction === 'out' && m.text.includes('dead-lettered'),
    );
    await say(d, 'web:team', '@Andy please fail');
    await told;
    const [dl] = (await api<DeadLetter[]>('GET', '/api/deadletters')).body;
    expect(dl).toMatchObject({ kind: 'run', group: 'team', status: 'pending' });
    const shown = (await api<DeadLetterDetail>('GET', `/api/deadletters/${dl!.id}`)).body;
    expect(shown.messages!.map((m) => m.text)).toEqual(['@Andy please fail']);
    expect(runner.inputs).toHaveLength(5);

    // Newer traffic in the chat meanwhile is its own turn; the replay holds only the old batch.
    fail = false;
    const later = nextMessage(d, (m) => m.chatId === 'web:team' && m.text.startsWith('answered'));
    await say(d, 'web:team', '@Andy a newer question');
    await later;
    const replayed = nextMessage(
      d,
      (m) => m.chatId === 'web:team' && m.text.startsWith('answered'),
    );
    const retry = await api<DeadLetter>('POST', `/api/deadletters/${dl!.id}/retry`);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'retried' });
    await replayed;
    const prompt = runner.inputs.at(-1)!.prompt;
    expect(prompt).toContain('@Andy please fail');
    expect(prompt).not.toContain('a newer question');
    expect((await api<ApiErr>('POST', `/api/deadletters/${dl!.id}/retry`)).status).toBe(409);
  });

  it('answers 404, 400 and validates the list query', async () => {
    const { api } = await boot();
    const missing = await api<ApiErr>('GET', '/api/deadletters/999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('no dead letter #999');
    expect((await api<ApiErr>('POST', '/api/deadletters/999/discard')).status).toBe(404);
    expect((await api<ApiErr>('GET', '/api/deadletters/abc')).status).toBe(400);
    const bad = await api<ApiErr>('GET', '/api/deadletters?status=lost');
    expect(bad.status).toBe(400);
    expect((await api<ApiErr>('GET', '/api/deadletters?colour=red')).status).toBe(400);
    expect((await api<unknown[]>('GET', '/api/deadletters?status=all&limit=5')).body).toEqual([]);
  });
});
