import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcClient } from '../../src/agent/mcp/ipc-client.js';
import type { Daemon } from '../../src/daemon.js';
import type { ResponseFile } from '../../src/protocol/ipc.js';
import type { RunnerEvent } from '../../src/protocol/runner-protocol.js';
import type { SessionSpec } from '../../src/runs/agent-process.js';
import { defaultHome, nextMessage, runEnded, say, startDaemon } from '../support/daemon-harness.js';
import { FakeClock, flush } from '../support/fake-clock.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

/**
 * Delegation through the real daemon at the settings a user gets (defaults: 5 concurrent runs,
 * depth 2, fan-out 4, a 15 min time limit), with scripted agents that call `delegate` through
 * the real IPC client the MCP server uses. Time is a fake clock; nothing sleeps.
 */

/** What one group's agent does with a turn; `delegate` calls the tool as its MCP server would. */
type Behaviour = (t: {
  spec: SessionSpec;
  prompt: string;
  delegate: (args: Record<string, unknown>) => Promise<ResponseFile>;
}) => Promise<RunnerEvent[]> | RunnerEvent[];

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

interface World {
  d: Daemon;
  home: string;
  clock: FakeClock;
  /** Per group: what its agent does (default: reply "done by <group>"). */
  agents: Map<string, Behaviour>;
  /** Every prompt per group, in order. */
  prompts: Map<string, string[]>;
}

async function boot(
  groups: Array<{ name: string; delegates?: string[] }>,
  home = defaultHome(),
): Promise<World> {
  const clock = new FakeClock(Date.now());
  const agents = new Map<string, Behaviour>();
  const prompts = new Map<string, string[]>();
  const launcher = scriptedLauncher(async ({ spec, prompt }) => {
    const g = spec.group.folder;
    prompts.set(g, [...(prompts.get(g) ?? []), prompt]);
    const b = agents.get(g);
    if (!b) return reply(`done by ${g}`);
    const client = new IpcClient(join(home, 'ipc', g), spec.sessionToken);
    return b({ spec, prompt, delegate: (args) => client.request('delegate', args) });
  });
  const d = await startDaemon(home, [launcher], undefined, {}, { clock });
  daemons.push(d);
  // The owner says yes to each delegation a non-main group asks for (the default rule: ask).
  d.bus.on('approval', (a) => {
    if (a.status === 'pending' && a.kind === 'delegate') d.guard.answer(a.id, 'once', 'owner');
  });
  d.ipc.ensureGroup('main');
  for (const g of groups) {
    if (d.store.groups.get(g.name)) continue; // a restart on the same data dir
    d.groups.add({
      name: g.name,
      chats: [`web:${g.name}`],
      requiresTrigger: false,
      ...(g.delegates ? { delegates: g.delegates } : {}),
    });
    d.ipc.ensureGroup(g.name);
  }
  return { d, home, clock, agents, prompts };
}

const outIn = (chat: string) => (m: { direction: string; chatId: string; text: string }) =>
  m.direction === 'out' && m.chatId === chat && !/^(🔐|⏳|✅)/u.test(m.text);

/** One message in `chat`; resolves with the agent's reply there. */
async function ask(w: World, chat: string, text = 'go'): Promise<string> {
  const out = nextMessage(w.d, outIn(chat));
  await say(w.d, chat, text);
  return (await out).text;
}

/** A promise with its resolver (gates that hold an agent until the test says). */
function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

const show = (r: ResponseFile) => JSON.stringify(r);

describe('delegate (scripted agents, default settings)', () => {
  it('returns the delegate reply as the tool result and records a child run billed to the caller', async () => {
    const w = await boot([{ name: 'coder' }]);
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'write the parser' }))),
    );
    w.agents.set('coder', () => reply('parser written'));
    const res = JSON.parse(await ask(w, 'web:main')) as ResponseFile;
    expect(res).toMatchObject({ ok: true, result: { status: 'ok', reply: 'parser written' } });
    const runs = w.d.store.runs.list({ limit: 10 });
    const parent = runs.find((r) => r.group === 'main')!;
    const child = runs.find((r) => r.group === 'coder')!;
    expect(child).toMatchObject({
      kind: 'delegate',
      parentRunId: parent.id,
      billedTo: ['main'],
      status: 'ok',
    });
    expect(w.d.store.runs.children(parent.id).map((r) => r.id)).toEqual([child.id]);
    // Counted to both: the delegate's row, and main's budget spend.
    const spent = w.d.store.usage.spentSince({ group: 'main' }, 0);
    expect(spent.runs).toBe(2);
    // The delegate's reply is a result, never a message in any chat.
    expect(w.d.store.messages.listChat('web:coder', 0)).toEqual([]);
    expect(w.prompts.get('coder')![0]).toMatch(/Delegated by group "main"/);
  });

  it('does not deadlock when every slot is held by a caller waiting on a delegate', async () => {
    // Five callers (the default cap is 5) each wait on a delegate: without lending their slots
    // the delegates never start.
    const callers = ['a', 'b', 'c', 'd', 'e'];
    const w = await boot([
      { name: 'coder' },
      ...callers.map((name) => ({ name, delegates: ['coder'] })),
    ]);
    const allRunning = gate();
    let running = 0;
    for (const name of callers)
      w.agents.set(name, async ({ delegate }) => {
        if (++running === callers.length) allRunning.open();
        await allRunning.promise;
        return reply(show(await delegate({ group: 'coder', prompt: `task of ${name}` })));
      });
    w.agents.set('coder', ({ prompt }) => reply(`did ${/task of (\w)/.exec(prompt)![1]}`));
    const answers = await Promise.all(callers.map((n) => ask(w, `web:${n}`)));
    answers.forEach((a, i) =>
      expect(JSON.parse(a)).toMatchObject({ ok: true, result: { reply: `did ${callers[i]}` } }),
    );
    expect(w.d.queue.slotsInUse).toBe(0);
  });

  it("runs in a lane of its own: the delegate group's busy conversation does not block it", async () => {
    const w = await boot([{ name: 'coder' }]);
    const coderBusy = gate();
    const coderStarted = gate();
    w.agents.set('coder', async ({ prompt }) => {
      if (prompt.includes('Delegated by')) return reply('delegate answer');
      coderStarted.open();
      await coderBusy.promise; // the coder's own chat turn holds its lane
      return reply('own chat answer');
    });
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'help' }))),
    );
    const own = ask(w, 'web:coder');
    await coderStarted.promise;
    const res = JSON.parse(await ask(w, 'web:main')) as ResponseFile;
    expect(res).toMatchObject({ ok: true, result: { reply: 'delegate answer' } });
    expect(w.d.queue.isRunning('coder')).toBe(true);
    coderBusy.open();
    expect(await own).toBe('own chat answer');
  });

  it('runs a fan-out of 3 concurrently and records 3 child runs', async () => {
    const w = await boot([{ name: 'coder' }]);
    const allThree = gate();
    let started = 0;
    w.agents.set('coder', async ({ prompt }) => {
      if (++started === 3) allThree.open();
      await allThree.promise; // each waits for the others: only concurrent runs get past
      return reply(`part ${/part (\d)/.exec(prompt)![1]} done`);
    });
    w.agents.set('main', async ({ delegate }) => {
      const all = await Promise.all(
        [1, 2, 3].map((n) => delegate({ group: 'coder', prompt: `part ${n}` })),
      );
      return reply(show(all as unknown as ResponseFile));
    });
    const all = JSON.parse(await ask(w, 'web:main')) as ResponseFile[];
    expect(all.map((r) => (r.ok ? (r.result as { reply: string }).reply : r.error))).toEqual([
      'part 1 done',
      'part 2 done',
      'part 3 done',
    ]);
    const parent = w.d.store.runs.list({ group: 'main' })[0]!;
    expect(w.d.store.runs.children(parent.id)).toHaveLength(3);
  });

  it('refuses a group outside the delegates setting, past the depth limit and past the fan-out', async () => {
    const w = await boot([
      { name: 'team', delegates: ['coder'] },
      { name: 'coder', delegates: ['deep'] },
      { name: 'deep', delegates: ['deeper'] },
      { name: 'deeper' },
      { name: 'secret' },
    ]);
    w.agents.set('team', async ({ delegate }) =>
      reply(show(await delegate({ group: 'secret', prompt: 'read it' }))),
    );
    const refused = JSON.parse(await ask(w, 'web:team')) as ResponseFile;
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(!refused.ok && refused.error.message).toMatch(
      /group "team" may not delegate to "secret".*`delegates` setting \(now: coder\).*clawpod groups set team delegates=coder,secret/,
    );

    // main → coder (1) → deep (2) → deeper (3: refused).
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'level 1' }))),
    );
    w.agents.set('coder', async ({ delegate }) =>
      reply(show(await delegate({ group: 'deep', prompt: 'level 2' }))),
    );
    w.agents.set('deep', async ({ delegate }) =>
      reply(show(await delegate({ group: 'deeper', prompt: 'level 3' }))),
    );
    const chain = JSON.parse(await ask(w, 'web:main')) as ResponseFile;
    const level2 = JSON.parse((chain as { result: { reply: string } }).result.reply) as {
      result: { reply: string };
    };
    const level3 = JSON.parse(level2.result.reply) as ResponseFile;
    expect(level3).toMatchObject({ ok: false, error: { code: 'depth_limit' } });
    expect(!level3.ok && level3.error.message).toMatch(/depth 3 is over delegation.maxDepth \(2\)/);
    expect(w.prompts.get('deeper')).toBeUndefined();

    w.agents.set('main', async ({ delegate }) => {
      const out: ResponseFile[] = [];
      for (let i = 1; i <= 5; i++) out.push(await delegate({ group: 'deeper', prompt: `n${i}` }));
      return reply(show(out as unknown as ResponseFile));
    });
    const five = JSON.parse(await ask(w, 'web:main')) as ResponseFile[];
    expect(five.slice(0, 4).every((r) => r.ok)).toBe(true);
    expect(five[4]).toMatchObject({ ok: false, error: { code: 'fan_out_limit' } });
  });

  it('reports a failing delegate and one over its time limit to the caller', async () => {
    const w = await boot([{ name: 'coder' }]);
    w.agents.set(
      'coder',
      ({ prompt }) =>
        prompt.includes('crash')
          ? [{ type: 'error', message: 'the model refused', retryable: false }]
          : new Promise<RunnerEvent[]>(() => undefined), // never answers
    );
    w.agents.set('main', async ({ delegate, prompt }) =>
      reply(
        show(
          await delegate({ group: 'coder', prompt: prompt.includes('crash') ? 'crash' : 'hang' }),
        ),
      ),
    );
    const failed = JSON.parse(await ask(w, 'web:main', 'crash please')) as ResponseFile;
    expect(failed).toMatchObject({ ok: false, error: { code: 'delegate_failed' } });
    expect(!failed.ok && failed.error.message).toMatch(/the model refused/);

    const hung = ask(w, 'web:main', 'hang please');
    // The default limit (15 min) is on the daemon's clock: wait until the delegate runs, then pass it.
    await new Promise<void>((r) => {
      const on = (run: { group: string; status: string }) => {
        if (run.group === 'coder' && run.status === 'running') {
          w.d.bus.off('run', on);
          r();
        }
      };
      w.d.bus.on('run', on);
    });
    await w.clock.advance(14 * 60_000);
    await flush();
    expect(w.d.store.delegations.open()).toHaveLength(1);
    await w.clock.advance(60_000);
    const timedOut = JSON.parse(await hung) as ResponseFile;
    expect(timedOut).toMatchObject({ ok: false, error: { code: 'delegate_failed' } });
    expect(!timedOut.ok && timedOut.error.message).toMatch(/timed out after 900 s/);
    const coderRuns = w.d.store.runs.list({ group: 'coder' });
    expect(coderRuns.every((r) => r.status !== 'running')).toBe(true);
  });

  it('wait:false answers at once and delivers the result later as a new turn in the chat', async () => {
    const w = await boot([{ name: 'coder' }]);
    const release = gate();
    w.agents.set('coder', async () => {
      await release.promise;
      return reply('the report is ready');
    });
    w.agents.set('main', async ({ delegate, prompt }) => {
      if (prompt.includes('Result of delegation')) return reply('got the result');
      return reply(show(await delegate({ group: 'coder', prompt: 'report', wait: false })));
    });
    const first = JSON.parse(await ask(w, 'web:main')) as ResponseFile;
    expect(first).toMatchObject({ ok: true, result: { status: 'started' } });
    const id = (first as { result: { delegation: string } }).result.delegation;
    const later = nextMessage(w.d, outIn('web:main'));
    release.open();
    expect((await later).text).toBe('got the result');
    const inbound = w.d.store.messages
      .listChat('web:main', 0)
      .find((m) => m.sender === 'delegate:coder')!;
    expect(inbound.text).toContain(`[Result of delegation ${id} to group "coder"`);
    expect(inbound.text).toContain('the report is ready');
  });

  it("abandons a waiting delegation when the caller's run is stopped", async () => {
    const w = await boot([{ name: 'coder' }]);
    const coderRunning = gate();
    w.agents.set('coder', () => {
      coderRunning.open();
      return new Promise<RunnerEvent[]>(() => undefined);
    });
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'forever' }))),
    );
    const callerEnded = runEnded(w.d, (s) => s === 'error');
    await say(w.d, 'web:main', 'go');
    await coderRunning.promise;
    const caller = w.d.store.runs.list({ group: 'main' })[0]!;
    expect(w.d.pool.stopRun(caller.id, 'stopped by the owner')).toBe(true);
    await callerEnded;
    await flush();
    const [dlg] = w.d.store.delegations.byCaller(caller.id);
    expect(dlg).toMatchObject({ status: 'abandoned' });
    const child = w.d.store.runs.children(caller.id)[0]!;
    await new Promise<void>((r) => {
      if (w.d.store.runs.get(child.id)!.status !== 'running') return r();
      w.d.bus.on('run', (run) => run.id === child.id && run.status !== 'running' && r());
    });
    expect(w.d.store.runs.get(child.id)!.status).not.toBe('running');
  });

  it('hands files over both ways through the hand-off folder', async () => {
    const w = await boot([{ name: 'coder' }]);
    mkdirSync(join(w.home, 'groups', 'main', 'specs'), { recursive: true });
    writeFileSync(join(w.home, 'groups', 'main', 'specs', 'spec.md'), 'the spec\n');
    w.agents.set('coder', ({ prompt }) => {
      const id = /delegation (dlg_\w+)/.exec(prompt)![1]!;
      const dir = join(w.home, 'groups', 'coder', 'handoff', id);
      const spec = readFileSync(join(dir, 'spec.md'), 'utf8');
      writeFileSync(join(dir, 'impl.ts'), `// from ${spec.trim()}\n`);
      return reply('implemented');
    });
    w.agents.set('main', async ({ delegate }) =>
      reply(
        show(
          await delegate({
            group: 'coder',
            prompt: 'implement',
            files: ['/workspace/group/specs/spec.md'],
          }),
        ),
      ),
    );
    const res = JSON.parse(await ask(w, 'web:main')) as {
      result: { delegation: string; files: Array<{ path: string }> };
    };
    const id = res.result.delegation;
    expect(res.result.files.map((f) => f.path).sort()).toEqual([
      `/workspace/group/handoff/${id}/impl.ts`,
      `/workspace/group/handoff/${id}/spec.md`,
    ]);
    expect(readFileSync(join(w.home, 'groups', 'main', 'handoff', id, 'impl.ts'), 'utf8')).toBe(
      '// from the spec\n',
    );
  });

  it('wait:false survives a restart: a delegation cut off by the stop runs again and is delivered', async () => {
    const w = await boot([{ name: 'coder' }]);
    const coderRunning = gate();
    w.agents.set('coder', () => {
      coderRunning.open();
      return new Promise<RunnerEvent[]>(() => undefined); // still working when clawpod stops
    });
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'long report', wait: false }))),
    );
    const first = JSON.parse(await ask(w, 'web:main')) as { result: { delegation: string } };
    const id = first.result.delegation;
    await coderRunning.promise;
    // Stop, and the delegate's process dies with the daemon.
    const stopping = w.d.stop();
    w.d.pool.killAll('the machine went down');
    await stopping;
    daemons.splice(daemons.indexOf(w.d), 1);

    const again = await boot([{ name: 'coder' }], w.home);
    again.agents.set('coder', () => reply('the long report, at last'));
    again.agents.set('main', ({ prompt }) =>
      reply(prompt.includes('Result of delegation') ? 'got it after the restart' : 'hm'),
    );
    const out = nextMessage(again.d, outIn('web:main'));
    // Started by the restart itself (no new message): the owed result arrives as a new turn.
    expect((await out).text).toBe('got it after the restart');
    expect(again.d.store.delegations.get(id)).toMatchObject({
      status: 'ok',
      reply: 'the long report, at last',
    });
  });

  it('a wait:false delegation still waiting for the owner when clawpod stopped fails, told in the chat', async () => {
    const home = defaultHome();
    const w = await boot([{ name: 'team', delegates: ['coder'] }, { name: 'coder' }], home);
    w.d.bus.removeAllListeners('approval'); // nobody answers this time
    const asked = new Promise<void>((r) => w.d.bus.once('approval', () => r()));
    w.agents.set('team', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'x', wait: false }))),
    );
    const turn = ask(w, 'web:team');
    await asked;
    await w.d.stop();
    daemons.splice(daemons.indexOf(w.d), 1);
    expect(JSON.parse(await turn)).toMatchObject({ ok: false, error: { code: 'interrupted' } });

    const again = await boot([], home);
    again.agents.set('team', ({ prompt }) =>
      reply(
        prompt.includes('failed: clawpod restarted before the owner answered') ? 'noted' : 'hm',
      ),
    );
    const out = nextMessage(again.d, outIn('web:team'));
    expect((await out).text).toBe('noted');
    expect(again.prompts.get('coder')).toBeUndefined();
  });

  it('asks the owner first when a tainted turn of main delegates (and not when the owner asked)', async () => {
    const w = await boot([{ name: 'coder' }]);
    w.d.groups.update('main', { senders: { allow: 'all' } }); // others may talk to main here
    const asked: Array<{ group: string; kind: string }> = [];
    w.d.bus.on('approval', (a) => a.status === 'pending' && asked.push(a));
    w.agents.set('main', async ({ delegate }) =>
      reply(show(await delegate({ group: 'coder', prompt: 'go' }))),
    );
    expect(JSON.parse(await ask(w, 'web:main'))).toMatchObject({ ok: true });
    expect(asked).toEqual([]);
    // A message from someone other than the owner taints the turn: the delegation asks.
    const out = nextMessage(w.d, outIn('web:main'));
    await say(w.d, 'web:main', 'forwarded: please delegate', 'mallory');
    expect(JSON.parse((await out).text)).toMatchObject({ ok: true });
    expect(asked).toMatchObject([{ group: 'main', kind: 'delegate' }]);
  });
});
