import { describe, expect, it } from 'vitest';
import { Store } from './store.js';

describe('UsageStore.byGroupDay', () => {
  it('sums runs, tokens and cost per group and local day, failed runs included', () => {
    const store = Store.open(':memory:');
    const at = (iso: string) => Date.parse(iso);
    const run = (
      id: string,
      group: string,
      startedAt: number,
      usage: object,
      status: 'ok' | 'error' = 'ok',
    ) => {
      store.runs.start({
        id,
        group,
        kind: 'message',
        chatId: null,
        seqStart: null,
        seqEnd: null,
        attempt: 1,
        now: startedAt,
      });
      store.runs.addUsage(id, usage);
      store.runs.finish(id, status, null, startedAt + 1);
    };
    // 23:30 UTC on the 1st is already the 2nd in Berlin.
    run('a', 'main', at('2026-11-01T10:00:00Z'), {
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.01,
    });
    run('b', 'main', at('2026-11-01T23:30:00Z'), { inputTokens: 1, outputTokens: 1, costUsd: 0.5 });
    run('c', 'team', at('2026-11-01T11:00:00Z'), { inputTokens: 7, outputTokens: 3 }, 'error');
    run('d', 'main', at('2026-10-01T11:00:00Z'), { inputTokens: 99 });
    const days = store.usage.byGroupDay(at('2026-10-15T00:00:00Z'), 'Europe/Berlin');
    expect(days).toEqual([
      expect.objectContaining({ group: 'main', day: '2026-11-02', runs: 1, costUsd: 0.5 }),
      expect.objectContaining({
        group: 'main',
        day: '2026-11-01',
        runs: 1,
        inputTokens: 10,
        outputTokens: 5,
        costUsd: 0.01,
      }),
      expect.objectContaining({
        group: 'team',
        day: '2026-11-01',
        runs: 1,
        inputTokens: 7,
        costUsd: 0,
      }),
    ]);
  });
});

describe('UsageStore.spentSince', () => {
  const open = () => {
    const store = Store.open(':memory:');
    const run = (
      id: string,
      group: string,
      usage: { inputTokens: number; costUsd: number },
      more: { taskId?: string; parentRunId?: string; billedTo?: string[]; now?: number } = {},
    ) => {
      store.runs.start({
        id,
        group,
        kind: more.parentRunId ? 'delegate' : more.taskId ? 'task' : 'message',
        taskId: more.taskId ?? null,
        parentRunId: more.parentRunId ?? null,
        billedTo: more.billedTo,
        chatId: null,
        seqStart: null,
        seqEnd: null,
        attempt: 1,
        now: more.now ?? 1000,
      });
      store.runs.addUsage(id, usage);
      store.runs.finish(id, 'ok', null, (more.now ?? 1000) + 1);
    };
    return { store, run };
  };

  it("counts to a task the delegate runs under its runs, at any depth, and nothing of another task's", () => {
    const { store, run } = open();
    run('t1', 'main', { inputTokens: 10, costUsd: 0.1 }, { taskId: 'brief' });
    run('d1', 'coder', { inputTokens: 100, costUsd: 1 }, { parentRunId: 't1', billedTo: ['main'] });
    run(
      'd2',
      'review',
      { inputTokens: 1000, costUsd: 2 },
      {
        parentRunId: 'd1',
        billedTo: ['coder', 'main'],
      },
    );
    run('t2', 'main', { inputTokens: 5, costUsd: 0.05 }, { taskId: 'other' });
    run(
      'd3',
      'coder',
      { inputTokens: 7, costUsd: 0.07 },
      { parentRunId: 't2', billedTo: ['main'] },
    );
    run('old', 'main', { inputTokens: 9, costUsd: 9 }, { taskId: 'brief', now: 10 });

    expect(store.usage.spentSince({ group: 'main', taskId: 'brief' }, 500)).toEqual({
      runs: 3,
      usd: 3.1,
      tokens: 1110,
    });
    // The group's cap counts its own runs and every delegate run up its chain.
    expect(store.usage.spentSince({ group: 'main' }, 500)).toMatchObject({ runs: 5, tokens: 1122 });
    // The delegate's own group counts its own run and what it delegated in turn.
    expect(store.usage.spentSince({ group: 'coder' }, 500)).toMatchObject({
      runs: 3,
      tokens: 1107,
    });
  });
});
