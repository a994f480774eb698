/**
 * The IPC host against a hostile queue folder, on a real file system and a real store. The
 * request handler is a stand-in here (to hold a request mid-way and so fix the interleaving);
 * the same attacks from inside a real bubblewrap sandbox, against the real daemon, are in
 * test/integration/ipc-attacks.test.ts.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useTempDirs } from '../../test/support/tmp.js';
import { silentLogger } from '../logging/logger.js';
import type { RequestFile } from '../protocol/ipc.js';
import { Store } from '../store/store.js';
import { IpcHost, type IpcHostOptions } from './ipc-host.js';
import type { IpcActor, IpcResult } from './request-handler.js';

const tempDir = useTempDirs('clawpod-ipc-host-');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  host: IpcHost;
  ipc: string;
  clock: FakeClock;
  handled: string[];
  notices: Array<{ key: string; text: string }>;
  q: (group: string, ...p: string[]) => string;
}

/** Groups `team` and `other`, their queue dirs, and a host whose handler answers `{echo: id}`. */
function setup(
  over: Partial<IpcHostOptions> & {
    handle?: (actor: IpcActor, req: RequestFile) => Promise<IpcResult>;
  } = {},
): Setup {
  const home = tempDir();
  const store = Store.open(join(home, 'db'));
  cleanups.push(() => store.close());
  for (const g of ['team', 'other']) store.groups.insert(g, {}, { now: 0 });
  const ipc = join(home, 'ipc');
  for (const g of ['team', 'other'])
    for (const d of ['requests', 'responses', 'tasks', 'errors'])
      mkdirSync(join(ipc, g, d), { recursive: true });
  const clock = new FakeClock(Date.now());
  const handled: string[] = [];
  const notices: Setup['notices'] = [];
  const handle =
    over.handle ??
    (async (_a: IpcActor, req: RequestFile): Promise<IpcResult> => ({
      ok: true,
      result: { echo: req.id },
    }));
  const host = new IpcHost({
    ipcRoot: ipc,
    store,
    log: silentLogger(),
    clock,
    notifyOwner: (key, text) => notices.push({ key, text }),
    ...over,
    handler: {
      handle: (actor, req) => {
        handled.push(`${actor.group}:${req.id}`);
        return handle(actor, req);
      },
    },
  });
  cleanups.push(() => host.stop());
  return { host, ipc, clock, handled, notices, q: (g, ...p) => join(ipc, g, ...p) };
}

const request = (id: string, op = 'list_tasks') => JSON.stringify({ id, op, args: {} });
const answerOf = (s: Setup, g: string, id: string) =>
  JSON.parse(readFileSync(s.q(g, 'responses', `${id}.json`), 'utf8')) as {
    id: string;
    ok: boolean;
    result?: unknown;
    error?: { code: string; message: string };
  };
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

describe('one pass per queue', () => {
  it('answers every request once, never overwriting an answer, when scans are asked for mid-pass', async () => {
    // Each request triggers another scan while it is being handled, as the agent's next file
    // (an inotify event) would; and files keep arriving between passes.
    let next = 0;
    const write = (n: number) => {
      for (let i = 0; i < n; i++, next++)
        writeFileSync(s.q('team', 'requests', `r${next}.json`), request(`r${next}`));
    };
    const scans: Promise<void>[] = [];
    const s: Setup = setup({
      handle: async (_a, req) => {
        if (next < 24) write(3);
        scans.push(s.host.scan('team', 'requests'));
        await yieldTurn();
        return { ok: true, result: { echo: req.id } };
      },
    });
    write(3);
    scans.push(s.host.scan('team', 'requests'));
    for (let i = 0; scans.length > i; i++) await scans[i];
    const ids = Array.from({ length: next }, (_, i) => `team:r${i}`);
    expect(next).toBe(24);
    expect([...s.handled].sort()).toEqual(ids.sort());
    for (let i = 0; i < next; i++)
      expect(answerOf(s, 'team', `r${i}`)).toEqual({
        id: `r${i}`,
        ok: true,
        result: { echo: `r${i}` },
      });
    expect(readdirSync(s.q('team', 'errors'))).toEqual([]);
    expect(readdirSync(s.q('team', 'requests'))).toEqual([]);
  });

  it('keeps an answer already waiting under the same id instead of overwriting it', async () => {
    const s = setup();
    writeFileSync(
      s.q('team', 'responses', 'dup.json'),
      '{"id":"dup","ok":true,"result":"first"}\n',
    );
    writeFileSync(s.q('team', 'requests', 'dup.json'), request('dup'));
    await s.host.scan('team', 'requests');
    expect(answerOf(s, 'team', 'dup').result).toBe('first');
    expect(readdirSync(s.q('team', 'requests'))).toEqual([]);
    expect(readdirSync(s.q('team', 'errors'))).toEqual([]);
  });

  it('skips a file the agent withdrew before it was read, without an error or an answer', async () => {
    const s: Setup = setup({
      handle: async (_a, req) => {
        rmSync(s.q('team', 'requests', 'b.json')); // withdrawn while `a` is handled
        return { ok: true, result: req.id };
      },
    });
    writeFileSync(s.q('team', 'requests', 'a.json'), request('a'));
    writeFileSync(s.q('team', 'requests', 'b.json'), request('b'));
    await s.host.scan('team', 'requests');
    expect(s.handled.length).toBe(1);
    expect(readdirSync(s.q('team', 'errors'))).toEqual([]);
    expect(readdirSync(s.q('team', 'responses'))).toHaveLength(1);
  });
});

describe('planted answer slots', () => {
  it('moves a symlink, a directory or a FIFO at responses/<id>.json to errors/, then answers', async () => {
    const s = setup();
    const outside = join(s.ipc, '..', 'outside.txt');
    writeFileSync(outside, 'untouched');
    symlinkSync(outside, s.q('team', 'responses', 'l.json'));
    mkdirSync(s.q('team', 'responses', 'd.json'));
    execFileSync('mkfifo', [s.q('team', 'responses', 'f.json')]);
    for (const id of ['l', 'd', 'f'])
      writeFileSync(s.q('team', 'requests', `${id}.json`), request(id));
    await s.host.scan('team', 'requests');
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
    for (const id of ['l', 'd', 'f']) {
      expect(lstatSync(s.q('team', 'responses', `${id}.json`)).isFile()).toBe(true);
      expect(answerOf(s, 'team', id)).toMatchObject({ id, ok: true });
      const why = JSON.parse(
        readFileSync(s.q('team', 'errors', `planted-${id}.json.error.json`), 'utf8'),
      ) as { reason: string };
      expect(why.reason).toContain(`the answer to request "${id}"`);
    }
    expect(s.host.stats().quarantined).toBe(3);
  });
});

describe('a broken queue folder', () => {
  it.each([
    ['a plain file', (p: string) => writeFileSync(p, 'not a dir')],
    ['a dangling symlink', (p: string) => symlinkSync('/nonexistent/clawpod', p)],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
  ])(
    'errors/ replaced by %s: the rescan repairs it, tells the owner once, and serves the other group',
    async (_what, plant) => {
      const s = setup();
      rmSync(s.q('team', 'errors'), { recursive: true });
      plant(s.q('team', 'errors'));
      writeFileSync(s.q('other', 'requests', 'o1.json'), request('o1'));
      writeFileSync(s.q('team', 'requests', 'bad.json'), '{nope');
      s.host.start();
      await s.host.rescan();
      const st = lstatSync(s.q('team', 'errors'));
      expect(st.isDirectory() && !st.isSymbolicLink()).toBe(true);
      expect(answerOf(s, 'other', 'o1').ok).toBe(true);
      expect(answerOf(s, 'team', 'bad').error?.code).toBe('invalid_json');
      const errors = readdirSync(s.q('team', 'errors'));
      expect(errors).toEqual(expect.arrayContaining(['bad.json', 'bad.json.error.json']));
      const kept = errors.find(
        (n) => n.startsWith('quarantined-errors-') && n.endsWith('.error.json'),
      );
      expect(kept).toBeDefined();
      expect(readFileSync(s.q('team', 'errors', kept!), 'utf8')).toContain('errors/ was a');
      expect(readdirSync(s.q('team')).filter((n) => n.startsWith('.'))).toEqual([]);
      // Broken again, the same day: repaired again, the owner not told twice.
      rmSync(s.q('team', 'errors'), { recursive: true });
      writeFileSync(s.q('team', 'errors'), 'again');
      await s.host.rescan();
      expect(lstatSync(s.q('team', 'errors')).isDirectory()).toBe(true);
      expect(s.notices).toHaveLength(1);
      expect(s.notices[0]!.key).toMatch(/^ipc:team:repaired:\d{4}-\d\d-\d\d$/);
      expect(s.notices[0]!.text).toContain('Group "team"');
      expect(s.host.stats()).toMatchObject({ quarantined: 2 });
    },
  );

  it('repairs requests/ replaced by a symlink to a host dir, and never reads through it', async () => {
    const s = setup();
    const hostDir = join(s.ipc, '..', 'host-secrets');
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'x.json'), request('x'));
    rmSync(s.q('team', 'requests'), { recursive: true });
    symlinkSync(hostDir, s.q('team', 'requests'));
    await s.host.rescan();
    expect(s.handled).toEqual([]);
    expect(readdirSync(hostDir)).toEqual(['x.json']);
    expect(lstatSync(s.q('team', 'requests')).isDirectory()).toBe(true);
    // The new directory is watched and scanned: a request there is answered.
    writeFileSync(s.q('team', 'requests', 'y.json'), request('y'));
    await s.host.scan('team', 'requests');
    expect(answerOf(s, 'team', 'y').ok).toBe(true);
  });

  it('start() does not throw on a folder broken while the daemon was down', () => {
    const s = setup();
    rmSync(s.q('team', 'tasks'), { recursive: true });
    writeFileSync(s.q('team', 'tasks'), 'x');
    expect(() => s.host.start()).not.toThrow();
    expect(() => s.host.ensureGroup('team')).not.toThrow();
    expect(lstatSync(s.q('team', 'tasks')).isDirectory()).toBe(true);
  });
});

describe('dot-files in the queues', () => {
  it('leaves a young temp file alone, then reports it when it is still there after the grace time', async () => {
    const s = setup();
    writeFileSync(s.q('team', 'requests', '.young.tmp'), '{');
    writeFileSync(s.q('team', 'requests', '.renamed.tmp'), request('renamed'));
    await s.host.scan('team', 'requests');
    expect(readdirSync(s.q('team', 'errors'))).toEqual([]);
    expect(s.clock.pending()).toHaveLength(1); // one timer for the earliest young file
    renameSync(s.q('team', 'requests', '.renamed.tmp'), s.q('team', 'requests', 'renamed.json'));
    await s.clock.advance(61_000);
    await s.host.idle(); // the pass the timer started
    expect(readdirSync(s.q('team', 'errors')).sort()).toEqual([
      '.young.tmp',
      '.young.tmp.error.json',
    ]);
    const why = JSON.parse(
      readFileSync(s.q('team', 'errors', '.young.tmp.error.json'), 'utf8'),
    ) as {
      reason: string;
    };
    expect(why.reason).toMatch(/starts with "\." .*left for more than 60 s/);
    expect(answerOf(s, 'team', 'renamed').ok).toBe(true);
  });

  it('reports at once a dot-file stamped long ago or far ahead', async () => {
    const s = setup();
    const old = s.q('team', 'tasks', '.old.json');
    const ahead = s.q('team', 'tasks', '.ahead.tmp');
    writeFileSync(old, '{}');
    writeFileSync(ahead, '{}');
    const t = s.clock.now() / 1000;
    utimesSync(old, t - 120, t - 120);
    utimesSync(ahead, t + 3600, t + 3600);
    await s.host.scan('team', 'tasks');
    expect(readdirSync(s.q('team', 'tasks'))).toEqual([]);
    expect(readdirSync(s.q('team', 'errors'))).toHaveLength(4);
  });
});

describe('errors/ cap', () => {
  it('keeps the newest entries up to the cap, counts them, and tells the owner once', async () => {
    const s = setup({ errorsCap: 10 });
    const t = Date.now() / 1000;
    for (let i = 0; i < 12; i++) {
      writeFileSync(s.q('team', 'errors', `old-${i}`), 'x');
      utimesSync(s.q('team', 'errors', `old-${i}`), t - 1000 + i, t - 1000 + i);
    }
    mkdirSync(s.q('team', 'errors', 'old-dir', 'deep'), { recursive: true });
    utimesSync(s.q('team', 'errors', 'old-dir'), t - 5000, t - 5000);
    for (let i = 0; i < 3; i++) writeFileSync(s.q('team', 'requests', `b${i}.json`), '{');
    await s.host.scan('team', 'requests');
    await s.host.rescan();
    const left = readdirSync(s.q('team', 'errors'));
    expect(left).toHaveLength(10);
    expect(left).not.toContain('old-dir');
    expect(left).toEqual(expect.arrayContaining(['b0.json.error.json', 'b2.json.error.json']));
    for (let i = 0; i < 3; i++)
      expect(answerOf(s, 'team', `b${i}`).error?.code).toBe('invalid_json');
    const stats = s.host.stats();
    expect(stats).toMatchObject({ errorsCap: 10, errorsFiles: 10, rotated: 9 });
    expect(stats.groups).toEqual([{ group: 'team', errorsFiles: 10, quarantined: 0, rotated: 9 }]);
    expect(s.notices.map((n) => n.key)).toEqual([
      expect.stringMatching(/^ipc:team:errors-capped:/),
    ]);
    expect(existsSync(s.q('team', 'errors', 'old-0'))).toBe(false);
  });
});

describe('bad request files', () => {
  const reasonOf = (s: Setup, name: string) =>
    (
      JSON.parse(readFileSync(s.q('team', 'errors', `${name}.error.json`), 'utf8')) as {
        reason: string;
      }
    ).reason;

  it('invalid JSON: moved to errors/ with the parse error, answered invalid_json under its name', async () => {
    const s = setup();
    writeFileSync(s.q('team', 'requests', 'broken.json'), '{"id": "broken", "op": ');
    await s.host.scan('team', 'requests');
    expect(s.handled).toEqual([]);
    expect(readdirSync(s.q('team', 'requests'))).toEqual([]);
    expect(readdirSync(s.q('team', 'errors')).sort()).toEqual([
      'broken.json',
      'broken.json.error.json',
    ]);
    expect(reasonOf(s, 'broken.json')).toMatch(/^unreadable or invalid JSON: /);
    expect(answerOf(s, 'team', 'broken')).toMatchObject({
      id: 'broken',
      ok: false,
      error: { code: 'invalid_json' },
    });
  });

  it('an unknown op: answered invalid_request under the id the file holds, saying which field', async () => {
    const s = setup();
    writeFileSync(
      s.q('team', 'requests', 'x.json'),
      JSON.stringify({ id: 'ask1', op: 'format_disk', args: {} }),
    );
    await s.host.scan('team', 'requests');
    expect(s.handled).toEqual([]);
    expect(reasonOf(s, 'x.json')).toMatch(/^op: /);
    const answer = answerOf(s, 'team', 'ask1');
    expect(answer).toMatchObject({ id: 'ask1', ok: false, error: { code: 'invalid_request' } });
    expect(answer.error!.message).toBe(reasonOf(s, 'x.json'));
  });

  it('a file over the size cap is refused unread, with a reason and an answer', async () => {
    const s = setup();
    writeFileSync(
      s.q('team', 'requests', 'big.json'),
      JSON.stringify({ id: 'big', op: 'list_tasks', args: { pad: 'x'.repeat(300 * 1024) } }),
    );
    await s.host.scan('team', 'requests');
    expect(s.handled).toEqual([]);
    expect(reasonOf(s, 'big.json')).toMatch(/^unreadable or invalid JSON: .+/);
    expect(answerOf(s, 'team', 'big').ok).toBe(false);
  });

  it('a file not named .json is moved aside with the rule it broke, and nothing else stops', async () => {
    const s = setup();
    writeFileSync(s.q('team', 'requests', 'notes.txt'), 'hello');
    writeFileSync(s.q('team', 'requests', 'good.json'), request('good'));
    await s.host.scan('team', 'requests');
    expect(reasonOf(s, 'notes.txt')).toBe('IPC files must be .json');
    expect(s.handled).toEqual(['team:good']);
    expect(answerOf(s, 'team', 'good').ok).toBe(true);
  });
});
