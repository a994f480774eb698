import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/cli/api-client.js';
import { ReplyWaiter } from '../../src/cli/reply-wait.js';

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
const run = (status: string, seqEnd: number | null, group = 'main') => ({
  group,
  kind: 'message' as const,
  status: status as 'ok',
  seqEnd,
});

describe('ReplyWaiter', () => {
  it('takes only new outbound messages after the posted seq, each once', () => {
    const w = new ReplyWaiter({ postedSeq: 10, group: 'main' });
    expect(w.onMessage(out(9), 0)).toBeUndefined();
    expect(w.onMessage(inb(11), 0)).toBeUndefined();
    expect(w.onMessage(out(10), 0)).toBeUndefined();
    expect(w.onMessage(out(12), 0)).toEqual(out(12));
    expect(w.onMessage(out(12), 1)).toBeUndefined();
    expect(w.replied).toBe(true);
  });

  it('never finishes before a reply, however long', () => {
    const w = new ReplyWaiter({ postedSeq: 1 });
    expect(w.nextCheckAt()).toBeNull();
    expect(w.isDone(1e12)).toBe(false);
    w.onRun(run('running', 1), 5);
    w.onRun(run('error', 1), 6); // retried by the queue: keep waiting
    expect(w.isDone(1e12)).toBe(false);
  });

  it('finishes after the quiet period following the last reply (a live run may stay open)', () => {
    const w = new ReplyWaiter({ postedSeq: 1, quietMs: 2000 });
    w.onMessage(out(2), 1000);
    expect(w.isDone(2999)).toBe(false);
    w.onMessage(out(3), 2500); // a second part restarts the quiet period
    expect(w.nextCheckAt()).toBe(4500);
    expect(w.isDone(4499)).toBe(false);
    expect(w.isDone(4500)).toBe(true);
  });

  it('finishes shortly after the run that consumed the message ended', () => {
    const w = new ReplyWaiter({ postedSeq: 5, group: 'main', quietMs: 2000, settleMs: 300 });
    w.onMessage(out(6), 1000);
    w.onRun(run('ok', 4), 1100); // an earlier batch: not ours
    w.onRun(run('ok', 5, 'other'), 1100); // another group: not ours
    expect(w.nextCheckAt()).toBe(3000);
    w.onRun(run('ok', 5), 1200);
    expect(w.nextCheckAt()).toBe(1500);
    expect(w.isDone(1500)).toBe(true);
  });

  it('a failed run that already produced a reply (the notice) ends the wait too', () => {
    const w = new ReplyWaiter({ postedSeq: 5, settleMs: 100 });
    w.onMessage(out(6, '⚠️ no credentials'), 0);
    w.onRun(run('error', 5), 10);
    expect(w.isDone(110)).toBe(true);
  });

  it('a run that ended ok without replying ends the wait after the quiet period', () => {
    const w = new ReplyWaiter({ postedSeq: 5, quietMs: 2000 });
    w.onRun(run('ok', 7), 100);
    expect(w.replied).toBe(false);
    expect(w.isDone(2099)).toBe(false);
    expect(w.isDone(2100)).toBe(true);
  });
});
