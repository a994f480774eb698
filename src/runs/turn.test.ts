import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../protocol/runner-protocol.js';
import { flush } from '../../test/support/fake-clock.js';
import { reply } from '../../test/support/scripted-launcher.js';
import { turnWorld } from '../../test/support/turn-world.js';
import { runTurn, STOPPED_BY_OWNER } from './turn.js';

const tool = (name: string, summary: string): RunnerEvent => ({ type: 'tool', name, summary });

describe('runTurn outcome mapping', () => {
  it('ok: queues the replies, ends the run ok with its usage, keeps its tool steps durably', async () => {
    const w = turnWorld(() => [tool('Bash', 'ls /workspace'), ...reply('two files')]);
    const committed: string[][] = [];
    const result = await runTurn(w.deps, w.request('r1', { onCommit: (r) => committed.push(r) }));
    expect(result).toEqual({ status: 'ok' });
    expect(committed).toEqual([['two files']]);
    const run = w.store.runs.get('r1')!;
    expect(run.status).toBe('ok');
    expect(run.usage.outputTokens).toBe(5);
    expect(w.store.views.runReplies('r1').map((r) => r.text)).toEqual(['two files']);
    expect(w.store.transcripts.steps('r1')).toEqual([
      { at: w.clock.now(), kind: 'tool', name: 'Bash', summary: 'ls /workspace' },
    ]);
  });

  it('a retryable failure ends the run error (not dead), tells the chat nothing, keeps its steps', async () => {
    // No `result`: the agent process dies mid-turn.
    const w = turnWorld(() => [tool('Read', 'notes.md')]);
    const result = await runTurn(w.deps, w.request('r1'));
    expect(result).toEqual({
      status: 'failed',
      message: 'the agent process ended before answering',
    });
    expect(w.store.runs.get('r1')).toMatchObject({ status: 'error' });
    expect(w.store.views.runReplies('r1')).toEqual([]);
    expect(w.store.transcripts.steps('r1').map((s) => s.name)).toEqual(['Read']);
  });

  it('a failure a retry cannot help is refused: the chat is told why, the run is dead', async () => {
    const w = turnWorld(() => [{ type: 'error', message: 'no API key', retryable: false }]);
    const committed: string[][] = [];
    const result = await runTurn(w.deps, w.request('r1', { onCommit: (r) => committed.push(r) }));
    expect(result).toEqual({ status: 'refused', message: 'no API key' });
    expect(w.store.runs.get('r1')).toMatchObject({ status: 'dead', error: 'no API key' });
    expect(w.store.views.runReplies('r1').map((r) => r.text)).toEqual(['⚠️ no API key']);
    expect(committed).toEqual([[]]); // the input counts as answered: no retry loop
  });

  it('a harness with no launcher is refused with the harnesses that exist', async () => {
    const w = turnWorld(() => reply('never'));
    const req = w.request('r1');
    const result = await runTurn(w.deps, { ...req, group: { ...req.group, harness: 'gemini' } });
    expect(result.status).toBe('refused');
    expect((result as { message: string }).message).toContain('(available: claude)');
    expect(w.launcher.started).toHaveLength(0);
  });

  it('stopped by the owner: the input is consumed through onStop, the run ends with the reason', async () => {
    let release!: () => void;
    const w = turnWorld(
      () => new Promise<RunnerEvent[]>((r) => (release = () => r(reply('too late')))),
    );
    const stops: string[] = [];
    const done = runTurn(w.deps, w.request('r1', { onStop: () => stops.push('stopped') }));
    await flush();
    expect(w.pool.stopRun('r1', STOPPED_BY_OWNER)).toBe(true);
    release();
    expect(await done).toEqual({ status: 'stopped' });
    expect(stops).toEqual(['stopped']);
    expect(w.store.runs.get('r1')).toMatchObject({ status: 'error', error: STOPPED_BY_OWNER });
    expect(w.store.views.runReplies('r1')).toEqual([]);
  });
});
