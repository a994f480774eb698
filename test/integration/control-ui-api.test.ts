/**
 * The API calls the Control UI makes (each one a plain API call a script or the CLI can make):
 * event-stream resume, progress, stop, chats, memory and folder (with planted links made by a
 * real bubblewrap sandbox), schedule preview, dead letters, attachments.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import { nextMessage, runEnded, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

let d: Daemon;
let home: string;
let base: string;
let token: string;
/** Turns whose prompt holds "hang" never answer (until stopped). */
const launcher = scriptedLauncher(({ prompt }) => {
  if (prompt.includes('hang')) return new Promise<RunnerEvent[]>(() => undefined); // works until killed
  return [
    { type: 'tool', name: 'Bash', summary: 'ls /workspace/group' },
    { type: 'partial', text: 'po' },
    { type: 'partial', text: 'ng' },
    ...reply('pong'),
  ];
});

beforeAll(async () => {
  home = tempHome('runtime: bubblewrap\n');
  d = await startDaemon(home, [launcher]);
  base = `http://127.0.0.1:${d.port}`;
  token = readFileSync(join(home, 'api-token'), 'utf8').trim();
});
afterAll(() => d.stop());

const api = (path: string, init: RequestInit = {}) =>
  fetch(base + path, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
const json = async <T>(path: string, init: RequestInit = {}): Promise<T> =>
  (await api(path, init)).json() as Promise<T>;
const post = (path: string, body: unknown = {}) =>
  api(path, { method: 'POST', body: JSON.stringify(body) });

interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** Opens the event stream; `until` reads events until one matches. */
async function openStream(headers: Record<string, string> = {}, query = '') {
  const ctl = new AbortController();
  const res = await api(`/api/events${query}`, { signal: ctl.signal, headers });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buf = '';
  const until = async (pred: (e: SseEvent) => boolean): Promise<SseEvent> => {
    for (;;) {
      const found = events.find(pred);
      if (found) return found;
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const ev: SseEvent = { event: 'message', data: {} };
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) ev.event = line.slice(6).trim();
          else if (line.startsWith('id:')) ev.id = line.slice(3).trim();
          else if (line.startsWith('data:')) ev.data = JSON.parse(line.slice(5));
        }
        events.push(ev);
      }
    }
  };
  return { events, until, close: () => ctl.abort() };
}

describe('event stream', () => {
  it('carries progress (tool steps, partial text) live, never as stored events', async () => {
    const s = await openStream();
    await s.until((e) => e.event === 'ready');
    await post('/api/messages', { chat: 'web:main', text: 'ping' });
    await s.until((e) => e.event === 'message' && e.data.text === 'pong');
    const progress = s.events.filter((e) => e.event === 'progress');
    expect(progress.map((e) => e.data.kind)).toEqual(['tool', 'partial', 'partial']);
    expect(progress[0]!.data).toMatchObject({ name: 'Bash', summary: 'ls /workspace/group' });
    expect(progress.map((e) => e.data.text ?? '').join('')).toBe('pong');
    expect(progress.every((e) => e.id === undefined)).toBe(true);
    s.close();
  });

  it('resumes from Last-Event-ID: every message missed, none twice, and the runs that changed', async () => {
    const first = await openStream();
    await first.until((e) => e.event === 'ready');
    await post('/api/messages', { chat: 'web:main', text: 'one' });
    const seen = await first.until((e) => e.event === 'message' && e.data.text === 'pong');
    first.close();
    // Missed while disconnected: a question, its answer, and the run that answered it.
    const answered = nextMessage(d, (m) => m.direction === 'out' && m.text === 'pong');
    const ended = runEnded(d);
    await post('/api/messages', { chat: 'web:main', text: 'two' });
    await answered;
    const missedRun = await ended;
    const again = await openStream({ 'last-event-id': seen.id! });
    await again.until((e) => e.event === 'ready');
    const messages = again.events.filter((e) => e.event === 'message');
    expect(messages.map((e) => e.data.text)).toEqual(['two', 'pong']);
    expect(messages[0]!.data.seq).toBe((seen.data.seq as number) + 1);
    expect(
      again.events.some(
        (e) => e.event === 'run' && e.data.id === missedRun.id && e.data.status === 'ok',
      ),
    ).toBe(true);
    again.close();
  });

  it('refuses a malformed Last-Event-ID with a 400 that says why', async () => {
    const res = await api('/api/events', { headers: { 'last-event-id': 'yesterday' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'Last-Event-ID',
    );
  });
});

describe('stop', () => {
  it('stops a run: error "stopped by the owner", the message consumed, no retry', async () => {
    const started = new Promise<string>((resolve) => {
      const on = (r: { id: string; status: string; sessionId: string | null }) => {
        if (r.status !== 'running') return;
        d.bus.off('run', on);
        resolve(r.id);
      };
      d.bus.on('run', on);
    });
    const inputsBefore = launcher.inputs.length;
    await post('/api/messages', { chat: 'web:main', text: 'hang on a long job' });
    const runId = await started;
    const ended = runEnded(d);
    // The run exists before its session does; stop answers 409 until the agent works on it.
    let res = await post(`/api/runs/${runId}/stop`);
    while (res.status === 409) {
      await new Promise((r) => setImmediate(r));
      res = await post(`/api/runs/${runId}/stop`);
    }
    expect(res.status).toBe(202);
    expect(await ended).toMatchObject({
      id: runId,
      status: 'error',
      error: 'stopped by the owner',
    });
    // Retries here are 1 ms apart; the next turn of the chat comes after any retry would have.
    const pong = nextMessage(d, (m) => m.chatId === 'web:main' && m.text === 'pong');
    await post('/api/messages', { chat: 'web:main', text: 'ping after the stop' });
    await pong;
    const after = launcher.inputs.slice(inputsBefore).map((i) => i.prompt);
    expect(after).toHaveLength(2);
    expect(after.filter((p) => p.includes('hang on a long job'))).toHaveLength(1);
    expect(after[1]).toContain('ping after the stop');
    const status = await json<{ groups: Array<{ name: string; pendingMessages: number }> }>(
      '/api/status',
    );
    expect(status.groups.find((g) => g.name === 'main')?.pendingMessages).toBe(0);
    const again = await post(`/api/runs/${runId}/stop`);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('not_running');
    expect((await post('/api/runs/run_nope/stop')).status).toBe(404);
  });
});

describe.skipIf(!hasBwrap)(
  "a group's memory file and folder, against an agent that plants links",
  () => {
    it('refuses to follow links the agent planted in a real sandbox; a write replaces, never follows', async () => {
      const tokenFile = join(home, 'api-token');
      d.groups.add({
        name: 'evil',
        chats: ['web:evil'],
        requiresTrigger: false,
        harness: 'command',
        command: `ln -sf ${tokenFile} CLAUDE.md && mkdir -p d && ln -s ${home} d/home && ln -s / rootlink && echo planted`,
      });
      const planted = nextMessage(d, (m) => m.chatId === 'web:evil' && m.direction === 'out');
      await post('/api/messages', { chat: 'web:evil', text: 'go' });
      expect((await planted).text).toContain('planted');

      const read = await api('/api/groups/evil/memory');
      const readBody = await read.text();
      expect(read.status).toBe(400);
      expect(readBody).toContain('unsafe_path');
      expect(readBody).not.toContain(token);
      const listing = await json<{ entries: Array<{ name: string; type: string }> }>(
        '/api/groups/evil/files',
      );
      expect(listing.entries).toEqual(
        expect.arrayContaining([
          { name: 'CLAUDE.md', type: 'symlink' },
          { name: 'rootlink', type: 'symlink' },
          { name: 'd', type: 'dir' },
        ]),
      );
      for (const path of [
        '/api/groups/evil/files?path=d/home',
        '/api/groups/evil/files?path=rootlink',
        '/api/groups/evil/files?path=../main',
        '/api/groups/evil/files/content?path=d/home/api-token',
        '/api/groups/evil/files/content?path=CLAUDE.md',
        '/api/groups/evil/files/content?path=rootlink/etc/passwd',
      ]) {
        const res = await api(path);
        const body = await res.text();
        expect(res.status, path).toBe(400);
        expect(body, path).not.toContain(token);
        expect(body, path).not.toContain('root:x:0');
      }

      const write = await api('/api/groups/evil/memory', {
        method: 'PUT',
        body: JSON.stringify({ text: '# evil\n\nBe nice.\n' }),
      });
      expect(write.status).toBe(200);
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
      expect(readFileSync(join(home, 'groups/evil/CLAUDE.md'), 'utf8')).toBe(
        '# evil\n\nBe nice.\n',
      );
      expect(await json('/api/groups/evil/memory')).toMatchObject({
        file: 'CLAUDE.md',
        exists: true,
        text: '# evil\n\nBe nice.\n',
      });
    });
  },
);

describe('chats, groups, schedule preview, doctor, dead letters, attachments', () => {
  it('lists chats with their last message, pages a chat, and unbinds', async () => {
    d.groups.add({ name: 'side', chats: ['web:side'], requiresTrigger: false });
    const pong = nextMessage(d, (m) => m.chatId === 'web:side' && m.direction === 'out');
    await post('/api/messages', { chat: 'web:side', text: 'ping side' });
    await pong;
    const overview =
      await json<Array<{ jid: string; group: string; last: { text: string } }>>(
        '/api/chats/overview',
      );
    expect(overview.find((c) => c.jid === 'web:side')).toMatchObject({
      group: 'side',
      last: { text: 'pong' },
    });
    const recent = await json<Array<{ text: string }>>('/api/chats/web%3Aside/recent?limit=1');
    expect(recent.map((m) => m.text)).toEqual(['pong']);
    expect((await api('/api/chats/web%3Aside/recent?limit=0')).status).toBe(400);
    const unbound = await api('/api/groups/side/chats/web%3Aside', { method: 'DELETE' });
    expect(((await unbound.json()) as { chats: string[] }).chats).toEqual([]);
    expect((await api('/api/groups/side/chats/web%3Aside', { method: 'DELETE' })).status).toBe(404);
  });

  it('previews the next fire times of a schedule, and says what is wrong with a bad one', async () => {
    const ok = await json<{ times: Array<{ at: number }>; schedule: { description: string } }>(
      '/api/schedule/next?schedule=15m&n=3&group=main',
    );
    expect(ok.times).toHaveLength(3);
    expect(ok.times[1]!.at - ok.times[0]!.at).toBe(15 * 60_000);
    const cron = await json<{ times: Array<{ local: string }> }>(
      `/api/schedule/next?schedule=${encodeURIComponent('0 8 * * 1')}&tz=Europe/Berlin`,
    );
    expect(cron.times[0]!.local).toMatch(/T08:00:00\+0[12]:00$/);
    const bad = await api('/api/schedule/next?schedule=sometimes');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
      'sometimes',
    );
  });

  it('answers doctor with 503 when the daemon was built without it, egress refusals as a list', async () => {
    expect((await api('/api/doctor')).status).toBe(503);
    expect(await json('/api/egress/refusals')).toEqual([]);
  });

  it('lists and discards dead letters; a second decision is a 409, an unknown id a 404', async () => {
    d.store.deadLetters.add({
      kind: 'outbox',
      group: 'main',
      chatId: 'web:main',
      ref: 'nope:0',
      seqStart: null,
      seqEnd: null,
      error: 'channel refused',
      createdAt: Date.now(),
    });
    const list = await json<Array<{ id: number; error: string }>>('/api/deadletters');
    const dl = list.find((x) => x.error === 'channel refused')!;
    const retry = await post(`/api/deadletters/${dl.id}/retry`);
    expect(retry.status).toBe(409); // no dead reply under that key
    expect(await (await post(`/api/deadletters/${dl.id}/discard`)).json()).toMatchObject({
      id: dl.id,
      status: 'discarded',
    });
    expect((await post(`/api/deadletters/${dl.id}/discard`)).status).toBe(409);
    expect((await post('/api/deadletters/999999/discard')).status).toBe(404);
  });

  it('takes attachments with a message: saved in the group folder, referenced in the text', async () => {
    const got = nextMessage(d, (m) => m.chatId === 'web:main' && m.direction === 'in');
    const res = await post('/api/messages', {
      chat: 'web:main',
      text: 'see the file',
      attachments: [{ name: 'notes.txt', mime: 'text/plain', data: btoa('hello file') }],
    });
    expect(res.status).toBe(202);
    const m = await got;
    const path = /\/workspace\/group\/(attachments\/\S+)/.exec(m.text)![1]!;
    expect(readFileSync(join(home, 'groups/main', path), 'utf8')).toBe('hello file');
    const file = await api(`/api/groups/main/files/content?path=${encodeURIComponent(path)}`);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(await file.text()).toBe('hello file');
    const empty = await post('/api/messages', { chat: 'web:main', text: ' ' });
    expect(empty.status).toBe(400);
    expect(existsSync(join(home, 'groups/main/attachments'))).toBe(true);
  });
});
