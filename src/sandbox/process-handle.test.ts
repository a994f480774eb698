import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wrapChild } from './process-handle.js';
import { collect } from './test-support.js';

const node = (script: string) => spawn(process.execPath, ['-e', script], { stdio: 'pipe' });

describe('wrapChild', () => {
  it('resolves with the exit code and passes output through', async () => {
    const h = wrapChild(
      node('process.stdin.pipe(process.stdout); process.stdin.on("end", () => process.exit(3))'),
      {
        wallTimeMs: 10_000,
      },
    );
    const r = await collect(h, 'echo me');
    expect(r.exit).toEqual({ code: 3, signal: null });
    expect(r.stdout).toBe('echo me');
  });

  it('kills at the wall-time limit', async () => {
    const started = Date.now();
    const h = wrapChild(node('setInterval(() => {}, 1000)'), { wallTimeMs: 300 });
    const r = await collect(h);
    expect(r.exit).toEqual({ code: null, signal: 'SIGKILL', reason: 'wall-time' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kill() is idempotent and reports killed', async () => {
    const h = wrapChild(node('setInterval(() => {}, 1000)'), { wallTimeMs: 10_000 });
    h.kill();
    h.kill();
    expect((await collect(h)).exit).toEqual({ code: null, signal: 'SIGKILL', reason: 'killed' });
    h.kill(); // after exit: no-op
  });

  it('uses a custom kill action and classifier', async () => {
    const child = node('setInterval(() => {}, 1000)');
    let asked = 0;
    const h = wrapChild(child, {
      wallTimeMs: 10_000,
      killAction: () => {
        asked++;
        child.kill('SIGTERM');
      },
    });
    h.kill();
    expect((await collect(h)).exit).toEqual({ code: null, signal: 'SIGTERM', reason: 'killed' });
    expect(asked).toBe(1);
    const oom = wrapChild(node('process.exit(137)'), {
      wallTimeMs: 10_000,
      classify: (c) => (c === 137 ? 'oom' : undefined),
    });
    expect((await collect(oom)).exit).toEqual({ code: 137, signal: null, reason: 'oom' });
  });

  it('reports a spawn failure through exited, never by throwing', async () => {
    const h = wrapChild(spawn('/nonexistent/binary', [], { stdio: 'pipe' }), { wallTimeMs: 1000 });
    const r = await collect(h);
    expect(r.exit.code).toBeNull();
    expect(r.exit.error).toMatch(/ENOENT/);
  });

  it('survives writes to stdin after the process died', async () => {
    const h = wrapChild(node('process.exit(0)'), { wallTimeMs: 10_000 });
    await h.exited;
    h.stdin.write('late');
    h.stdin.end();
    await new Promise((r) => h.stdin.once('close', r));
  });
});
