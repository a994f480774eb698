import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/cli/api-client.js';
import { ReplyWaiter, type RunView } from '../../src/cli/reply-wait.js';

const out = (seq: number, text = `m${seq}`): ChatMessage => ({
  seq,
  direction: 'out',
  sender: 'assistant',
  text,
  ts: 0,
});
const inb = (seq: number): ChatMessage => ({
  seq,
  direction: 'in',
  sender: 'owner',
  text: 'x',
  ts: 0,
});
const run = (status: string, seqStart: number, seqEnd: number, over: Partial<RunView> = {}) =>
  ({
    id: 'r1',
    kind: 'message',
    chatId: 'web:main',
    status,
    seqStart,
    seqEnd,
    error: null,
    ...over,
  }) as RunView;

describe('ReplyWaiter', () => {
  it('takes only new outbound messages after the posted seq, each once', () => {
    const w = new ReplyWaiter({ postedSeq: 10, chat: 'web:main' });
    expect(w.onMessage(out(9))).toBeUndefined();
    expect(w.onMessage(inb(11))).toBeUndefined();
    expect(w.onMessage(out(10))).toBeUndefined();
    expect(w.onMessage(out(12))).toEqual(out(12));
    expect(w.onMessage(out(12))).toBeUndefined();
    expect(w.replied).toBe(true);
  });

  it('a first piece is not the end: it waits for the run that took the message to answer', () => {
    const w = new ReplyWaiter({ postedSeq: 5, chat: 'web:main' });
    w.onMessage(out(6, 'working on it…')); // a progress note
    expect(w.finished).toBe(false);
    w.onRun(run('running', 5, 5));
    w.onRun(run('error', 5, 5)); // retried by the queue: keep waiting
    expect(w.finished).toBe(false);
    expect(w.onRun(run('ok', 5, 5, { id: 'r2' }))).toEqual({ name: 'delivering', runId: 'r2' });
    expect(w.onDelivery('r2', 1).name).toBe('delivering'); // a reply still on its way
    expect(w.onDelivery('r2', 0)).toEqual({ name: 'done', runId: 'r2' });
    expect(w.finished).toBe(true);
  });

  it('ignores runs of other chats and of batches without the message', () => {
    const w = new ReplyWaiter({ postedSeq: 5, chat: 'web:main' });
    expect(w.onRun(run('ok', 5, 5, { chatId: 'web:other' })).name).toBe('waiting');
    expect(w.onRun(run('ok', 1, 4)).name).toBe('waiting');
    expect(w.onRun(run('ok', 6, 9)).name).toBe('waiting');
    expect(w.onRun(run('ok', 3, 7, { kind: 'task' })).name).toBe('waiting');
    expect(w.onRun(run('ok', 3, 7)).name).toBe('delivering');
  });

  it('a dead run ends the wait with its reason', () => {
    const w = new ReplyWaiter({ postedSeq: 5, chat: 'web:main' });
    expect(w.onRun(run('dead', 5, 5, { error: 'no credential' }))).toEqual({
      name: 'failed',
      runId: 'r1',
      error: 'no credential',
    });
    expect(w.finished).toBe(true);
  });
});
