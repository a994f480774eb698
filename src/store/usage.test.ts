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
