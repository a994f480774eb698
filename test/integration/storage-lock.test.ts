import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { DaemonStatus } from '../../src/status.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const holderScript = resolve(import.meta.dirname, '../fixtures/sqlite-lock-holder.mjs');

/** Another process holding the database's write lock until `release()`. */
interface LockHolder {
  release(): Promise<void>;
  child: ChildProcessWithoutNullStreams;
}

async function holdLock(dbFile: string): Promise<LockHolder> {
  const child = spawn(process.execPath, [holderScript, dbFile], { stdio: 'pipe' });
  const lines = createInterface({ input: child.stdout });
  const next = (want: string) =>
    new Promise<void>((ok, fail) => {
      const onLine = (l: string) => {
        if (l.trim() !== want) return;
        lines.off('line', onLine);
        ok();
      };
      lines.on('line', onLine);
      child.once('exit', (code) => fail(new Error(`lock holder exited ${code}`)));
    });
  await next('locked');
  return {
    child,
    release: async () => {
      const done = next('released');
      child.stdin.write('release\n');
      await done;
    },
  };
}

const daemons: Daemon[] = [];
const holders: LockHolder[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) if (h.child.exitCode === null) h.child.kill();
  for (const d of daemons.splice(0)) await d.stop();
});

async function boot() {
  const home = tempHome();
  const d = await startDaemon(home, [scriptedLauncher(() => reply('ok'))]);
  daemons.push(d);
  d.groups.add({ name: 'team', chats: ['web:team'] });
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  const base = `http://127.0.0.1:${d.port}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(base + path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  const post = (text: string, id: string) =>
    api('/api/messages', { method: 'POST', body: JSON.stringify({ chat: 'web:team', text, id }) });
  return { d, home, api, post, dbFile: join(home, 'clawpod.db') };
}

/** Resolves when the daemon's store reports the problem (an event, no polling). */
const storageFails = (d: Daemon) =>
  new Promise<void>((ok) => d.store.health.onChange((c) => c.to === 'failing' && ok()));

describe('a database locked by another process (default settings)', () => {
  it('keeps the daemon responsive and stores the message once the lock is released', async () => {
    const { d, api, post, dbFile } = await boot();
    const holder = await holdLock(dbFile);
    holders.push(holder);
    const failing = storageFails(d);
    const posted = post('written while locked', 'locked-1');
    await failing;

    // The lock is still held: the event loop answers other requests meanwhile.
    const health = await api('/api/health');
    expect(health.status).toBe(200);
    const status = (await (await api('/api/status')).json()) as DaemonStatus;
    expect(status.storage).toMatchObject({ ok: false, problem: 'busy' });
    expect(status.storage!.lastError).toContain(`the database ${dbFile} is locked`);
    expect(status.storage!.since).toBeGreaterThan(0);
    expect(await (await api('/metrics')).text()).toMatch(/^clawpod_storage_ok 0$/m);
    expect(holder.child.exitCode).toBeNull();

    await holder.release();
    const res = await posted;
    expect(res.status).toBe(202);
    const { seq } = (await res.json()) as { seq: number };
    const rows = d.store.messages.listChat('web:team', 0).filter((m) => m.text.includes('locked'));
    expect(rows.map((m) => m.seq)).toEqual([seq]);
    expect(d.store.health.report().ok).toBe(true);
    expect(await (await api('/metrics')).text()).toMatch(/^clawpod_storage_ok 1$/m);
  });

  it('answers 503 with Retry-After and a clear message when the lock outlasts the wait (5 s)', async () => {
    const { d, api, post, dbFile } = await boot();
    const holder = await holdLock(dbFile);
    holders.push(holder);
    const res = await post('refused while locked', 'locked-2');
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('storage_busy');
    expect(body.error.message).toMatch(
      new RegExp(`the database ${dbFile} is locked by another process \\(waited [\\d.]+ s\\)`),
    );
    expect(body.error.message).toContain('nothing was stored');
    const during = (await (await api('/api/status')).json()) as DaemonStatus;
    expect(during.storage).toMatchObject({ ok: false, problem: 'busy' });
    await holder.release();
    // Nothing of the refused write is there; the client's retry (same id) stores it once.
    const again = await post('refused while locked', 'locked-2');
    expect(again.status).toBe(202);
    const stored = d.store.messages
      .listChat('web:team', 0)
      .filter((m) => m.platformId === 'locked-2');
    expect(stored).toHaveLength(1);
    expect(d.store.health.report().ok).toBe(true);
  }, 20_000);

  it('the outbox pauses while the database is locked and delivers the reply once afterwards', async () => {
    const { d, dbFile } = await boot();
    d.outbox.stop();
    d.outbox.enqueue({ key: 'k-locked', chatId: 'web:team', text: 'reply during a lock' });
    const holder = await holdLock(dbFile);
    holders.push(holder);
    const failing = storageFails(d);
    d.outbox.start(); // its first write (marking the row as sending) meets the lock
    await failing;
    expect(d.store.outbox.byKey('k-locked')).toMatchObject({ status: 'pending', attempts: 0 });
    const delivered = nextMessage(d, (m) => m.chatId === 'web:team' && m.direction === 'out');
    await holder.release();
    expect((await delivered).text).toBe('reply during a lock');
    expect(d.store.outbox.byKey('k-locked')).toMatchObject({ status: 'sent', attempts: 1 });
    const out = d.store.messages.listChat('web:team', 0).filter((m) => m.direction === 'out');
    expect(out.map((m) => m.text)).toEqual(['reply during a lock']);
  });

  it('acknowledges a message only once it is committed, with synchronous = FULL', async () => {
    const { d, post, dbFile } = await boot();
    expect(d.store.db.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
    expect(d.store.db.pragma('busy_timeout', { simple: true })).toBe(100);
    const res = await post('durable', 'durable-1');
    expect(res.status).toBe(202);
    const { seq } = (await res.json()) as { seq: number };
    // Another connection (another process would see the same) reads it at once.
    const other = new Database(dbFile, { readonly: true });
    try {
      expect(other.prepare('SELECT text FROM messages WHERE seq = ?').pluck().get(seq)).toBe(
        'durable',
      );
    } finally {
      other.close();
    }
  });
});
