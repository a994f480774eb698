import { describe, expect, it } from 'vitest';
import { DuplicateRuntimeError, RuntimeUnavailableError, UnknownRuntimeError } from './errors.js';
import { builtinRuntimes } from './index.js';
import { AUTO_ORDER, createRuntimes, selectRuntime } from './registry.js';
import type { Runtime, RuntimeAvailability } from './runtime.js';
import pino from 'pino';

function fake(name: string, ok: boolean, reason = ok ? 'fine' : 'missing'): Runtime {
  return {
    name,
    available: async (): Promise<RuntimeAvailability> => ({ ok, reason, enforced: [] }),
    spawn: () => {
      throw new Error('not in this test');
    },
  };
}

const set = (...rts: Runtime[]) => new Map(rts.map((r) => [r.name, r]));

describe('registry', () => {
  it('builtinRuntimes lists every runtime once', () => {
    const names = builtinRuntimes.map((f) => f.name);
    expect(names.sort()).toEqual(['apple', 'bubblewrap', 'docker', 'none', 'podman']);
    const byName = (n: string) => builtinRuntimes.find((f) => f.name === n);
    expect(byName('bubblewrap')?.description).toMatch(/bubblewrap/);
    expect(byName('nope')).toBeUndefined();
  });

  it('refuses a runtime listed twice', () => {
    const f = { name: 'bubblewrap', description: 'x', create: () => fake('bubblewrap', true) };
    const log = pino({ level: 'silent' });
    expect(() => createRuntimes({ logger: log }, [...builtinRuntimes, f])).toThrow(
      DuplicateRuntimeError,
    );
  });

  it('creates instances from the context', () => {
    const rts = createRuntimes({ logger: pino({ level: 'silent' }) }, builtinRuntimes);
    expect([...rts.keys()].sort()).toEqual(['apple', 'bubblewrap', 'docker', 'none', 'podman']);
    expect(rts.get('none')?.name).toBe('none');
  });
});

describe('selectRuntime', () => {
  it('auto prefers bubblewrap, then podman, then docker', async () => {
    expect(AUTO_ORDER.slice(0, 3)).toEqual(['bubblewrap', 'podman', 'docker']);
    const all = set(fake('docker', true), fake('podman', true), fake('bubblewrap', true));
    expect((await selectRuntime('auto', all)).runtime.name).toBe('bubblewrap');
    const noBwrap = set(fake('docker', true), fake('podman', true), fake('bubblewrap', false));
    const sel = await selectRuntime('auto', noBwrap);
    expect(sel.runtime.name).toBe('podman');
    expect(sel.why).toMatch(/skipped bubblewrap: missing/);
    const onlyDocker = set(fake('docker', true), fake('podman', false), fake('bubblewrap', false));
    expect((await selectRuntime('auto', onlyDocker)).runtime.name).toBe('docker');
  });

  it('auto never picks none', async () => {
    const rts = set(fake('none', true), fake('bubblewrap', false, 'no bwrap'));
    await expect(selectRuntime('auto', rts)).rejects.toThrow(RuntimeUnavailableError);
    await expect(selectRuntime('auto', rts)).rejects.toThrow(/bubblewrap: no bwrap/);
  });

  it('none only when asked, and says so loudly', async () => {
    const sel = await selectRuntime('none', set(fake('none', true), fake('bubblewrap', true)));
    expect(sel.runtime.name).toBe('none');
    expect(sel.why).toMatch(/WITHOUT any sandbox/);
  });

  it('a named runtime must exist and be available', async () => {
    await expect(selectRuntime('lxc', set(fake('none', true)))).rejects.toThrow(
      UnknownRuntimeError,
    );
    await expect(selectRuntime('lxc', set(fake('none', true)))).rejects.toThrow(/auto, none/);
    const rts = set(fake('docker', false, 'no engine'));
    await expect(selectRuntime('docker', rts)).rejects.toThrow(
      /"docker" is not available: no engine/,
    );
  });
});
