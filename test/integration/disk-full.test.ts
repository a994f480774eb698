import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { DaemonStatus } from '../../src/status.js';
import { StorageUnavailableError } from '../../src/store/storage-errors.js';
import { nextMessage, startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

const isRoot = process.getuid?.() === 0;

/** A small tmpfs holding the data dir: a disk that really fills up. Needs root (CI is root). */
function mountSmallDisk(sizeMb: number): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes a file until the disk refuses another byte; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('disk full (a real tmpfs data dir)', () => {
  it.skipIf(!isRoot)(
    'refuses intake with 507 and a clear message, tells the owner, recovers when space returns, loses nothing accepted (needs root to mount a tmpfs; skipped otherwise)',
    async () => {
      const disk = mountSmallDisk(6);
      cleanups.push(() => disk.unmount());
      const home = join(disk.dir, 'home');
      // tempHome's config, on the small disk.
      const tmpHome = tempHome();
      execFileSync('cp', ['-r', tmpHome, home]);
      rmSync(tmpHome, { recursive: true, force: true });

      const d: Daemon = await startDaemon(home, [scriptedLauncher(() => reply('ok'))]);
      let stopped = false;
      cleanups.push(async () => {
        if (!stopped) await d.stop();
      });
      d.groups.add({ name: 'team', chats: ['web:team'] });
      const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
      const base = `http://127.0.0.1:${d.port}`;
      const api = (path: string, init: RequestInit = {}) =>
        fetch(base + path, {
          ...init,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        });
      const body = 'x'.repeat(2000);
      const post = (id: string) =>
        api('/api/messages', {
          method: 'POST',
          body: JSON.stringify({ chat: 'web:team', text: `${id} ${body}`, id }),
        });

      const accepted: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await post(`before-${i}`);
        expect(res.status).toBe(202);
        accepted.push(`before-${i}`);
      }

      const filler = fillDisk(disk.dir);
      // The owner hears of it (through the outbox now, or once space returns).
      const ownerNotice = nextMessage(
        d,
        (m) => m.chatId === 'web:main' && m.direction === 'out' && m.text.startsWith('⚠️ Storage'),
      );
      let refused: Response | undefined;
      for (let i = 0; i < 3000 && !refused; i++) {
        const res = await post(`full-${i}`);
        if (res.status === 202) accepted.push(`full-${i}`);
        else refused = res;
      }
      expect(refused, 'the disk never filled up').toBeDefined();
      expect(refused!.status).toBe(507);
      expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
      const err = ((await refused!.json()) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe('disk_full');
      expect(err.message).toMatch(
        new RegExp(`^disk full at ${home}: free space there, then try again`),
      );

      const status = (await (await api('/api/status')).json()) as DaemonStatus;
      expect(status.storage).toMatchObject({ ok: false, problem: 'disk_full' });
      expect(status.storage!.lastError).toContain(`disk full at ${home}`);

      // A channel message with a file is refused whole (the channel redelivers it), not kept
      // without its attachment.
      const withFile = await d.router
        .receive({
          chatId: 'web:team',
          platformId: 'with-file',
          sender: 'alice',
          text: 'see attached',
          ts: Date.now(),
          attachments: [{ name: 'big.bin', data: Buffer.alloc(256 * 1024, 7) }],
        })
        .catch((e: unknown) => e);
      expect(withFile).toBeInstanceOf(StorageUnavailableError);
      expect((withFile as StorageUnavailableError).problem).toBe('disk_full');

      // Space returns: the store notices on its own (probe), intake works again.
      const recovered = new Promise<void>((ok) =>
        d.store.health.onChange((c) => c.to === 'ok' && ok()),
      );
      rmSync(filler);
      await recovered;
      const after = await post('after');
      expect(after.status).toBe(202);
      accepted.push('after');
      expect((await ownerNotice).text).toContain(`disk full at ${home}`);

      // Nothing accepted with a 2xx is lost: all there, once, after a clean stop.
      await d.stop();
      stopped = true;
      const db = new Database(join(home, 'clawpod.db'), { readonly: true });
      try {
        const ids = db
          .prepare("SELECT platform_id FROM messages WHERE chat_jid = 'web:team' ORDER BY seq")
          .pluck()
          .all() as string[];
        expect(ids).toEqual(accepted);
      } finally {
        db.close();
      }
    },
    60_000,
  );
});
