import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { mapToHost, NoneRuntime } from './none.js';
import { collect, makeLayout } from './test-support.js';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.map((l) => JSON.parse(l)) };
}

describe('none runtime', () => {
  it('maps the workdir through the mounts', () => {
    const mounts = [
      { hostPath: '/d/groups/team', sandboxPath: '/workspace/group', readOnly: false },
      { hostPath: '/d/x', sandboxPath: '/workspace/group/x', readOnly: true },
    ];
    expect(mapToHost('/workspace/group', mounts)).toBe('/d/groups/team');
    expect(mapToHost('/workspace/group/x/y', mounts)).toBe('/d/x/y');
    expect(mapToHost('/workspace/groupie', mounts)).toBe('/workspace/groupie');
  });

  it('runs a plain process with exactly the declared env, warns on every spawn', async () => {
    const layout = makeLayout();
    try {
      const { logger, lines } = capture();
      const rt = new NoneRuntime({ logger });
      const a = await rt.available();
      expect(a.ok).toBe(true);
      expect(a.reason).toMatch(/NO SANDBOX/);
      const spec = {
        id: 'none-1',
        command: [
          process.execPath,
          '-e',
          'console.log(JSON.stringify({env: process.env, cwd: process.cwd(), uid: process.getuid()}))',
        ],
        mounts: [{ hostPath: layout.groupDir, sandboxPath: '/workspace/group', readOnly: false }],
        env: { ONLY: 'this' },
        workdir: '/workspace/group',
        uid: 1000,
        gid: 1000,
        limits: { memoryMb: 256, cpus: 1, pids: 64, wallTimeMs: 10_000 },
        network: { mode: 'none' as const },
      };
      const r = await collect(rt.spawn(spec));
      expect(r.exit.code).toBe(0);
      const seen = JSON.parse(r.stdout) as {
        env: Record<string, string>;
        cwd: string;
        uid: number;
      };
      expect(seen.env).toEqual({ ONLY: 'this' });
      expect(seen.cwd).toBe(layout.groupDir);
      if (process.getuid?.() === 0) expect(seen.uid).toBe(1000);
      await collect(rt.spawn({ ...spec, id: 'none-2' }));
      const warnings = lines().filter((l) => l.level === 40);
      expect(warnings).toHaveLength(2);
      expect(String(warnings[0]?.msg)).toMatch(/WITHOUT a sandbox/);
    } finally {
      layout.cleanup();
    }
  });
});
