import { beforeEach, describe, expect, it } from 'vitest';
import { openDb } from './db.js';
import { Store } from './store.js';

let store: Store;
beforeEach(() => {
  store = new Store(openDb(':memory:'));
});

const start = (id: string, now: number, over: { group?: string; kind?: 'message' | 'task' } = {}) =>
  store.runs.start({
    id,
    group: over.group ?? 'team',
    kind: over.kind ?? 'message',
    chatId: 'tg:1',
    seqStart: 1,
    seqEnd: 3,
    attempt: 1,
    now,
  });

describe('RunStore', () => {
  it('starts a run as running and finishes it', () => {
    start('r1', 100);
    expect(store.runs.get('r1')).toMatchObject({
      status: 'running',
      group: 'team',
      seqStart: 1,
      seqEnd: 3,
      startedAt: 100,
      endedAt: null,
      usage: {},
    });
    store.runs.finish('r1', 'error', 'exit 1', 200);
    expect(store.runs.get('r1')).toMatchObject({ status: 'error', error: 'exit 1', endedAt: 200 });
  });

  it('records the message a run answers and the session that served it', () => {
    store.runs.start({
      id: 'r2',
      group: 'team',
      kind: 'message',
      chatId: 'tg:1',
      replyTo: 'msg-7',
      seqStart: 1,
      seqEnd: 3,
      attempt: 1,
      now: 1,
    });
    store.runs.setSession('r2', 'ses_1');
    store.runs.finish('r2', 'dead', 'failed 5 times', 2);
    expect(store.runs.get('r2')).toMatchObject({
      replyTo: 'msg-7',
      sessionId: 'ses_1',
      status: 'dead',
    });
  });

  it('adds usage across turns; cost stays unset until reported', () => {
    start('r1', 100);
    store.runs.addUsage('r1', { inputTokens: 10, outputTokens: 5 });
    expect(store.runs.get('r1')!.usage).toEqual({
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
    store.runs.addUsage('r1', { inputTokens: 1, cacheReadTokens: 100, costUsd: 0.25 });
    store.runs.addUsage('r1', { costUsd: 0.5 });
    expect(store.runs.get('r1')!.usage).toEqual({
      inputTokens: 11,
      outputTokens: 5,
      cacheReadTokens: 100,
      cacheWriteTokens: 0,
      costUsd: 0.75,
    });
  });

  it('marks runs left running by a crash as interrupted', () => {
    start('r1', 100);
    start('r2', 110);
    store.runs.finish('r2', 'ok', null, 120);
    expect(store.runs.interruptStale(500)).toBe(1);
    expect(store.runs.get('r1')).toMatchObject({ status: 'interrupted', endedAt: 500 });
    expect(store.runs.get('r2')!.status).toBe('ok');
    expect(store.runs.countByStatus()).toEqual({ interrupted: 1, ok: 1 });
  });

  it('lists newest first with filters and a limit', () => {
    start('r1', 100);
    start('r2', 200, { group: 'other' });
    start('r3', 300, { kind: 'task' });
    store.runs.finish('r3', 'ok', null, 310);
    expect(store.runs.list().map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect(store.runs.list({ group: 'team' }).map((r) => r.id)).toEqual(['r3', 'r1']);
    expect(store.runs.list({ status: 'running' }).map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(store.runs.list({ limit: 1 }).map((r) => r.id)).toEqual(['r3']);
  });
});
