import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../protocol/runner-protocol.js';
import { flush } from '../../test/support/fake-clock.js';
import { reply, type Script } from '../../test/support/scripted-launcher.js';
import { turnWorld, type TurnWorld } from '../../test/support/turn-world.js';
import type { AgentSession } from './agent-session.js';

const IDLE_TIMEOUT_MS = 1_800_000; // defaults.idleTimeoutMs
const hooks = { timeoutMs: 60_000 };
const ctx = { runId: 'r1', chat: 'web:owner', replyTo: null };

function acquire(w: TurnWorld, over: { lane?: string; conversation?: boolean } = {}) {
  return w.pool.acquire({
    lane: over.lane ?? 'main',
    group: w.store.groups.get('main')!,
    harness: 'claude',
    conversation: over.conversation ?? true,
  });
}

/** A script whose answers wait until the test releases them. */
function gated(): { script: Script; release: (events: RunnerEvent[]) => void } {
  const waiting: Array<(e: RunnerEvent[]) => void> = [];
  return {
    script: () => new Promise<RunnerEvent[]>((r) => waiting.push(r)),
    release: (events) => waiting.shift()!(events),
  };
}

const recordOf = (w: TurnWorld, s: AgentSession) => w.store.agentSessions.get(s.id)!;

describe('SessionPool and its sessions: idle, busy, closing, closed', () => {
  it('idle → busy → idle after an answer, kept warm, then closed by the idle timeout', async () => {
    const g = gated();
    const w = turnWorld(g.script);
    const s = acquire(w);
    expect(s.state.name).toBe('idle');
    const outcome = s.turn('hi', ctx, hooks);
    expect(s.state.name).toBe('busy');
    await flush();
    expect(recordOf(w, s).state).toBe('busy');
    g.release(reply('hello'));
    expect(await outcome).toMatchObject({ ok: true, messages: ['hello'] });
    expect(s.state.name).toBe('idle');
    // The same session serves the lane's next turn (taking it disarms the idle timer).
    expect(acquire(w)).toBe(s);
    const more = s.turn('more', ctx, hooks);
    await flush();
    g.release(reply('more'));
    expect(await more).toMatchObject({ ok: true });
    await w.clock.advance(IDLE_TIMEOUT_MS - 1);
    expect(s.state.name).toBe('idle');
    await w.clock.advance(1);
    expect(await s.closed).toBe('idle timeout');
    expect(s.state.name).toBe('closed');
    expect(recordOf(w, s)).toMatchObject({ state: 'closed', endReason: 'idle timeout' });
  });

  it('a close asked while busy waits for the turn, then the session closes', async () => {
    const g = gated();
    const w = turnWorld(g.script);
    const s = acquire(w);
    const outcome = s.turn('hi', ctx, hooks);
    await flush();
    s.close('the daemon is stopping');
    expect(s.state).toMatchObject({ name: 'busy', closeAfterTurn: 'the daemon is stopping' });
    g.release(reply('done'));
    expect(await outcome).toMatchObject({ ok: true, messages: ['done'] });
    expect(await s.closed).toBe('the daemon is stopping');
  });

  it('a failed turn closes its session; the lane gets a fresh one', async () => {
    const w = turnWorld(({ call }) =>
      call === 0 ? [{ type: 'error', message: 'model overloaded' }] : reply('ok'),
    );
    const first = acquire(w);
    expect(await first.turn('hi', ctx, hooks)).toMatchObject({
      ok: false,
      message: 'model overloaded',
      retryable: true,
    });
    expect(['closing', 'closed']).toContain(first.state.name);
    expect(await first.closed).toBe('turn failed: model overloaded');
    const second = acquire(w);
    expect(second).not.toBe(first);
    expect(await second.turn('again', ctx, hooks)).toMatchObject({ ok: true });
    expect(w.launcher.started).toHaveLength(2);
  });

  it('a turn asked of a session that is not idle fails at once, retryable', async () => {
    const g = gated();
    const w = turnWorld(g.script);
    const s = acquire(w);
    const first = s.turn('one', ctx, hooks);
    expect(await s.turn('two', ctx, hooks)).toEqual({
      ok: false,
      message: 'the agent session was busy, not ready for a turn',
      retryable: true,
    });
    g.release(reply('one done'));
    expect(await first).toMatchObject({ ok: true });
  });

  it('changed group settings: the idle session closes and a new one starts', async () => {
    const w = turnWorld(() => reply('ok'));
    const s = acquire(w);
    await s.turn('hi', ctx, hooks);
    w.store.groups.update('main', { model: 'another-model' });
    const next = acquire(w);
    expect(next).not.toBe(s);
    expect(await s.closed).toBe('the group settings changed');
  });

  it('a single-turn (isolated) session closes after its one turn', async () => {
    const w = turnWorld(() => reply('ok'));
    const s = acquire(w, { lane: 'main#task:t1', conversation: false });
    await s.turn('task', ctx, hooks);
    expect(await s.closed).toBe('its one turn is done');
  });

  it('at limits.maxConcurrentRuns a new lane closes the longest-idle session to make room', async () => {
    const w = turnWorld(() => reply('ok'));
    const sessions: AgentSession[] = [];
    for (let i = 0; i < 5; i++) {
      const s = acquire(w, { lane: `lane${i}` });
      await s.turn('hi', ctx, hooks);
      await w.clock.advance(1000);
      sessions.push(s);
    }
    acquire(w, { lane: 'lane5' });
    expect(await sessions[0]!.closed).toBe('made room for other work');
    expect(sessions.slice(1).map((s) => s.state.name)).toEqual(['idle', 'idle', 'idle', 'idle']);
  });
});
