import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { loadConfig } from '../config/load.js';
import { Store } from '../store/store.js';
import { createHooks, DEFAULT_HOOK_GROUP } from './hooks.js';

const tempDir = useTempDirs('clawpod-hooks-');

/** createHooks over a config, with bindings kept in a map as the daemon keeps them in SQLite. */
function setUp(webhooksYaml: string, bound: Record<string, string> = {}) {
  const home = tempDir();
  writeFileSync(join(home, 'config.yaml'), `webhooks:\n${webhooksYaml}`);
  const config = loadConfig({ CLAWPOD_HOME: home, HOOK_SECRET: 'hook-secret-123' });
  const groups = new Set(['main']);
  const bindings = new Map(Object.entries(bound));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const store = Store.open(':memory:');
  createHooks({
    config,
    log: pino(sink),
    nonces: store.webhookNonces,
    accepting: () => true,
    receive: () => Promise.resolve({ seq: 1, duplicate: false }),
    runTask: () => ({ taskRunId: 1, scheduledFor: 0 }),
    ensureGroup: (g) => void groups.add(g),
    ensureBound: (g, chat) => {
      if (!groups.has(g)) throw new Error(`no group ${g}`);
      if (!bindings.has(chat)) bindings.set(chat, g);
      const folder = bindings.get(chat)!;
      return { folder, isMain: folder === 'main' };
    },
  });
  store.close();
  return { groups, bindings, logs };
}

const mainWarning = (logs: Array<Record<string, unknown>>) =>
  logs.filter((l) => String(l.msg).includes('bound to the main group'));

describe('webhook setup', () => {
  it('binds the chat of a hook without a group to the "hooks" group, made for it', () => {
    const { groups, bindings, logs } = setUp(
      "  alerts: { secret: env:HOOK_SECRET, chat: 'web:alerts' }\n" +
        "  ops: { secret: env:HOOK_SECRET, group: main, chat: 'web:ops' }\n" +
        "  nightly: { secret: env:HOOK_SECRET, chat: 'web:nightly', run: brief }\n",
    );
    expect(DEFAULT_HOOK_GROUP).toBe('hooks');
    expect([...groups]).toEqual(['main', 'hooks']);
    // An explicit group (main included) still works; a task hook binds nothing.
    expect(Object.fromEntries(bindings)).toEqual({ 'web:alerts': 'hooks', 'web:ops': 'main' });
    expect(mainWarning(logs)).toEqual([]);
  });

  it('warns when a hook without a group posts into a chat bound to main', () => {
    const { bindings, logs } = setUp("  alerts: { secret: env:HOOK_SECRET, chat: 'web:main' }\n", {
      'web:main': 'main',
    });
    expect(bindings.get('web:main')).toBe('main'); // never moved: it is the owner's chat
    expect(mainWarning(logs)).toMatchObject([{ level: 40, hook: 'alerts', chat: 'web:main' }]);
  });
});
