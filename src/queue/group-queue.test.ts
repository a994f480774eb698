import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupQueue } from './group-queue.js';
import type { Job } from './job.js';

/** A test job: its kind is only a label; `run`/`deadLetter` go to the fake handlers. */
interface WorkItem extends Job {
  kind: 'messages' | 'task';
}

interface Call {
  item: WorkItem;
  attempt: number;
  at: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A handler whose runs stay open until the test settles them. */
class FakeHandlers {
  readonly calls: Call[] = [];
  readonly deadLetter = vi.fn<(item: WorkItem, error: Error, attempts: number) => void>();
  /** Keys whose runs fail at once, with the error message to fail with. */
  readonly failing = new Map<string, string>();

  run = (item: WorkItem, attempt: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.calls.push({ item, attempt, at: Date.now(), resolve, reject });
      const failure = this.failing.get(item.key);
      if (failure !== undefined) reject(new Error(failure));
    });

  keys(): string[] {
    return this.calls.map((c) => `${c.item.lane}/${c.item.key}`);
  }

  /** The call for lane/key still waiting to be settled (the latest one). */
  open(lane: string, key: string): Call {
    const c = this.calls.findLast((x) => x.item.lane === lane && x.item.key === key);
    if (!c) throw new Error(`no run for ${lane}/${key}; runs: ${this.keys().join(', ')}`);
    return c;
  }
}

const log = pino({ level: 'silent' });

function item(
  lane: string,
  key = 'messages',
  kind: WorkItem['kind'] = key === 'messages' ? 'messages' : 'task',
): WorkItem {
  const job: WorkItem = {
    lane,
    group: lane,
    kind,
    key,
    run: (attempt) => h.run(job, attempt),
    deadLetter: (error, attempts) => h.deadLetter(job, error, attempts),
  };
  return job;
}

/** Lets settled runs finish their bookkeeping (a handful of promise hops). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

let h: FakeHandlers;
const makeQueue = (maxConcurrent = 5, retry = { baseDelayMs: 5000, maxAttempts: 5 }) =>
  new GroupQueue({ maxConcurrent, retry, log });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  h = new FakeHandlers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GroupQueue lanes and concurrency', () => {
  it('runs one item at a time per lane', async () => {
    const q = makeQueue();
    q.enqueue(item('a', 'k1'));
    q.enqueue(item('a', 'k2'));
    expect(h.keys()).toEqual(['a/k1']);
    expect(q.isRunning('a')).toBe(true);
    expect(q.stats()).toMatchObject({ running: 1, pending: 1 });

    h.open('a', 'k1').resolve();
    await flush();
    expect(h.keys()).toEqual(['a/k1', 'a/k2']);
    expect(q.stats()).toMatchObject({ running: 1, pending: 0 });

    h.open('a', 'k2').resolve();
    await flush();
    expect(q.isRunning('a')).toBe(false);
    expect(q.stats()).toEqual({ running: 0, waiting: 0, pending: 0, backoff: 0 });
  });

  it('runs different lanes in parallel', () => {
    const q = makeQueue();
    q.enqueue(item('a'));
    q.enqueue(item('b'));
    expect(h.keys()).toEqual(['a/messages', 'b/messages']);
    expect(q.stats().running).toBe(2);
  });

  it('never runs more than the global cap, and fills freed slots in arrival order', async () => {
    const q = makeQueue(2);
    for (const lane of ['a', 'b', 'c', 'd']) q.enqueue(item(lane));
    expect(h.keys()).toEqual(['a/messages', 'b/messages']);
    expect(q.stats()).toMatchObject({ running: 2, waiting: 2 });

    h.open('b', 'messages').resolve();
    await flush();
    expect(h.keys()).toEqual(['a/messages', 'b/messages', 'c/messages']);
    expect(q.stats()).toMatchObject({ running: 2, waiting: 1 });

    h.open('a', 'messages').resolve();
    await flush();
    expect(h.keys().at(-1)).toBe('d/messages');
    expect(q.stats()).toMatchObject({ running: 2, waiting: 0 });
  });

  it('keeps FIFO order within a lane', async () => {
    const q = makeQueue();
    for (const k of ['t1', 't2', 't3', 't4']) q.enqueue(item('a', k));
    for (const k of ['t1', 't2', 't3']) {
      h.open('a', k).resolve();
      await flush();
    }
    expect(h.keys()).toEqual(['a/t1', 'a/t2', 'a/t3', 'a/t4']);
  });

  it('collapses waiting items with equal keys, but not into the running one', async () => {
    const q = makeQueue();
    q.enqueue(item('a'));
    // The running batch is already read; new messages need one more run, not three.
    expect(q.enqueue(item('a'))).toBe(true);
    expect(q.enqueue(item('a'))).toBe(true);
    expect(q.enqueue(item('a'))).toBe(true);
    expect(q.stats().pending).toBe(1);

    h.open('a', 'messages').resolve();
    await flush();
    h.open('a', 'messages').resolve();
    await flush();
    expect(h.calls).toHaveLength(2);
    expect(q.stats().pending).toBe(0);
  });

  it('keeps different keys apart and in order when coalescing', async () => {
    const q = makeQueue();
    q.enqueue(item('a', 'busy'));
    q.enqueue(item('a', 'messages'));
    q.enqueue(item('a', 'task-1'));
    q.enqueue(item('a', 'messages'));
    expect(q.stats().pending).toBe(2);
    h.open('a', 'busy').resolve();
    await flush();
    h.open('a', 'messages').resolve();
    await flush();
    h.open('a', 'task-1').resolve();
    await flush();
    expect(h.keys()).toEqual(['a/busy', 'a/messages', 'a/task-1']);
  });

  it('does not starve messages behind tasks within a lane (FIFO between kinds)', async () => {
    const q = makeQueue();
    q.enqueue(item('g', 'task-1'));
    q.enqueue(item('g', 'messages'));
    q.enqueue(item('g', 'task-2'));
    q.enqueue(item('g', 'task-3'));
    for (const k of ['task-1', 'messages', 'task-2']) {
      h.open('g', k).resolve();
      await flush();
    }
    expect(h.calls.map((c) => [c.item.kind, c.item.key])).toEqual([
      ['task', 'task-1'],
      ['messages', 'messages'],
      ['task', 'task-2'],
      ['task', 'task-3'],
    ]);
  });

  it('does not starve a message lane behind a busy task lane under the cap', async () => {
    const q = makeQueue(1);
    q.enqueue(item('tasks', 'task-1'));
    q.enqueue(item('tasks', 'task-2'));
    q.enqueue(item('tasks', 'task-3'));
    q.enqueue(item('g', 'messages'));
    for (const [lane, key] of [
      ['tasks', 'task-1'],
      ['g', 'messages'],
      ['tasks', 'task-2'],
    ] as const) {
      h.open(lane, key).resolve();
      await flush();
    }
    expect(h.keys()).toEqual(['tasks/task-1', 'g/messages', 'tasks/task-2', 'tasks/task-3']);
  });
});

describe('GroupQueue retries', () => {
  it('retries at 5 s, 10 s, 20 s, 40 s on its own timers, then dead-letters once and moves on', async () => {
    const q = makeQueue(5, { baseDelayMs: 5000, maxAttempts: 5 });
    h.failing.set('flaky', 'boom');
    q.enqueue(item('a', 'flaky'));
    await flush();
    // Another item waits in the same lane; it must not start while 'flaky' is retrying.
    q.enqueue(item('a', 'next'));

    const flaky = () => h.calls.filter((c) => c.item.key === 'flaky');
    expect(h.calls).toHaveLength(1);
    expect(q.stats().backoff).toBe(1);

    const gaps = [5000, 10_000, 20_000, 40_000];
    for (const [i, gap] of gaps.entries()) {
      await vi.advanceTimersByTimeAsync(gap - 1);
      expect(flaky(), `no retry before ${gap} ms`).toHaveLength(i + 1);
      expect(h.keys(), 'the lane is held while retrying').not.toContain('a/next');
      await vi.advanceTimersByTimeAsync(1);
      await flush();
      expect(flaky(), `retry after ${gap} ms`).toHaveLength(i + 2);
    }
    expect(flaky().map((c) => [c.item.key, c.attempt, c.at])).toEqual([
      ['flaky', 1, 0],
      ['flaky', 2, 5000],
      ['flaky', 3, 15_000],
      ['flaky', 4, 35_000],
      ['flaky', 5, 75_000],
    ]);

    await flush();
    expect(h.deadLetter).toHaveBeenCalledTimes(1);
    const [dead, err, attempts] = h.deadLetter.mock.calls[0]!;
    expect(dead.key).toBe('flaky');
    expect(err.message).toBe('boom');
    expect(attempts).toBe(5);

    // The lane proceeds to its next item, and the dead one never runs again.
    expect(h.keys()).toEqual([...Array(5).fill('a/flaky'), 'a/next']);
    h.open('a', 'next').resolve();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(h.calls).toHaveLength(6);
    expect(h.deadLetter).toHaveBeenCalledTimes(1);
    expect(q.stats()).toEqual({ running: 0, waiting: 0, pending: 0, backoff: 0 });
  });

  it('stops retrying after a success', async () => {
    const q = makeQueue(5, { baseDelayMs: 1000, maxAttempts: 5 });
    h.failing.set('messages', 'once');
    q.enqueue(item('a'));
    await flush();
    h.failing.clear();
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.calls.map((c) => c.attempt)).toEqual([1, 2]);
    h.open('a', 'messages').resolve();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.calls).toHaveLength(2);
    expect(h.deadLetter).not.toHaveBeenCalled();
  });

  it('treats a non-Error rejection as a failure', async () => {
    const q = makeQueue(5, { baseDelayMs: 1000, maxAttempts: 1 });
    q.enqueue(item('a'));
    h.open('a', 'messages').reject('plain string' as unknown as Error);
    await flush();
    expect(h.deadLetter).toHaveBeenCalledTimes(1);
    expect(h.deadLetter.mock.calls[0]![1]).toBeInstanceOf(Error);
    expect(h.deadLetter.mock.calls[0]![1].message).toBe('plain string');
  });

  it('a retry due while the cap is full waits for a free slot', async () => {
    const q = makeQueue(1, { baseDelayMs: 1000, maxAttempts: 3 });
    h.failing.set('messages', 'boom');
    q.enqueue(item('a'));
    await flush();
    h.failing.clear();
    q.enqueue(item('b')); // takes the slot freed by the failure
    expect(h.keys()).toEqual(['a/messages', 'b/messages']);

    await vi.advanceTimersByTimeAsync(5000);
    expect(h.calls).toHaveLength(2);
    expect(q.stats().running).toBe(1);

    h.open('b', 'messages').resolve();
    await flush();
    expect(h.keys()).toEqual(['a/messages', 'b/messages', 'a/messages']);
    expect(h.calls[2]!.attempt).toBe(2);
  });

  it('keeps going when the dead-letter handler throws', async () => {
    const q = makeQueue(5, { baseDelayMs: 1000, maxAttempts: 1 });
    h.deadLetter.mockImplementation(() => {
      throw new Error('dead-letter store down');
    });
    q.enqueue(item('a', 'x'));
    q.enqueue(item('a', 'y'));
    h.open('a', 'x').reject(new Error('fail'));
    await flush();
    expect(h.deadLetter).toHaveBeenCalledTimes(1);
    expect(h.keys()).toEqual(['a/x', 'a/y']);
  });
});

describe('GroupQueue shutdown', () => {
  it('refuses new work once shutdown has begun', async () => {
    const q = makeQueue();
    const done = q.shutdown(1000);
    expect(q.enqueue(item('a'))).toBe(false);
    expect(h.calls).toHaveLength(0);
    await expect(done).resolves.toEqual([]);
  });

  it('waits for active runs to finish', async () => {
    const q = makeQueue();
    q.enqueue(item('a'));
    q.enqueue(item('b'));
    let result: string[] | undefined;
    void q.shutdown(30_000).then((r) => (result = r));

    h.open('a', 'messages').resolve();
    await flush();
    expect(result).toBeUndefined();

    await vi.advanceTimersByTimeAsync(10_000);
    expect(result).toBeUndefined();

    h.open('b', 'messages').resolve();
    await flush();
    expect(result).toEqual([]);
  });

  it('returns the lanes still running after the timeout', async () => {
    const q = makeQueue();
    q.enqueue(item('stuck'));
    q.enqueue(item('quick'));
    let result: string[] | undefined;
    void q.shutdown(1000).then((r) => (result = r));
    h.open('quick', 'messages').resolve();
    await vi.advanceTimersByTimeAsync(999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(result).toEqual(['stuck']);
  });

  it('does not start pending or waiting items', async () => {
    const q = makeQueue(1);
    q.enqueue(item('a', 'first'));
    q.enqueue(item('a', 'second')); // pending in a running lane
    q.enqueue(item('b')); // waiting for a global slot
    const done = q.shutdown(5000);
    h.open('a', 'first').resolve();
    await expect(done).resolves.toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.keys()).toEqual(['a/first']);
    expect(q.stats()).toMatchObject({ running: 0, pending: 0 });
  });

  it('cancels retry timers and does not retry a run that fails during shutdown', async () => {
    const q = makeQueue(5, { baseDelayMs: 1000, maxAttempts: 5 });
    h.failing.set('messages', 'boom');
    q.enqueue(item('backoff'));
    await flush();
    h.failing.clear();
    q.enqueue(item('active'));
    expect(q.stats().backoff).toBe(1);

    const done = q.shutdown(5000);
    h.open('active', 'messages').reject(new Error('killed'));
    await expect(done).resolves.toEqual([]);
    // The retry timer and the shutdown timeout are both gone.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.keys()).toEqual(['backoff/messages', 'active/messages']);
    expect(h.deadLetter).not.toHaveBeenCalled();
    expect(q.stats()).toEqual({ running: 0, waiting: 0, pending: 0, backoff: 0 });
  });
});

describe('GroupQueue.lend (a job waiting on work it queued)', () => {
  it('lends the slot while waiting, then takes one back before any waiting lane', async () => {
    const q = makeQueue(1);
    q.enqueue(item('caller'));
    let release!: () => void;
    const waited = q.lend('caller', new Promise<void>((r) => (release = r)));
    q.enqueue(item('delegate:1', 'd'));
    q.enqueue(item('other'));
    // The delegate got the lent slot (the cap is 1); the caller holds none meanwhile.
    expect(h.keys()).toEqual(['caller/messages', 'delegate:1/d']);
    expect(q.slotsInUse).toBe(1);

    release();
    h.open('delegate:1', 'd').resolve();
    await flush();
    await waited;
    // The caller took the freed slot back first: `other` still waits.
    expect(h.keys()).toEqual(['caller/messages', 'delegate:1/d']);
    expect(q.slotsInUse).toBe(1);

    h.open('caller', 'messages').resolve();
    await flush();
    expect(h.keys()).toEqual(['caller/messages', 'delegate:1/d', 'other/messages']);
    expect(q.slotsInUse).toBe(1);
  });

  it('gives nothing back for a job that ended while its slot was lent', async () => {
    const q = makeQueue(1);
    q.enqueue(item('caller'));
    let release!: () => void;
    const waited = q.lend('caller', new Promise<void>((r) => (release = r)));
    h.open('caller', 'messages').resolve(); // stopped while waiting
    await flush();
    expect(q.slotsInUse).toBe(0);
    release();
    await waited;
    expect(q.slotsInUse).toBe(0);
    q.enqueue(item('next'));
    expect(h.keys()).toEqual(['caller/messages', 'next/messages']);
  });
});

describe('GroupQueue.release (a job whose agent answered, committing)', () => {
  it('gives the slot to waiting work at once; the lane stays busy until the job returns', async () => {
    const q = makeQueue(1);
    q.enqueue(item('a', 'k1'));
    q.enqueue(item('a', 'k2'));
    q.enqueue(item('b'));
    expect(h.keys()).toEqual(['a/k1']);

    q.release('a');
    q.release('a'); // idempotent: one slot given back, not two
    // `b` took the slot; `a`'s next job waits for its lane, not for a slot.
    expect(h.keys()).toEqual(['a/k1', 'b/messages']);
    expect(q.isRunning('a')).toBe(true);
    expect(q.slotsInUse).toBe(1);

    h.open('a', 'k1').resolve();
    await flush();
    // a/k2 is next in its lane but the cap (1) is held by b.
    expect(h.keys()).toEqual(['a/k1', 'b/messages']);
    expect(q.slotsInUse).toBe(1);
    h.open('b', 'messages').resolve();
    await flush();
    expect(h.keys()).toEqual(['a/k1', 'b/messages', 'a/k2']);
    h.open('a', 'k2').resolve();
    await flush();
    expect(q.stats()).toEqual({ running: 0, waiting: 0, pending: 0, backoff: 0 });
  });
});
