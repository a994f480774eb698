import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { backoffDelay, Reconnector, type LinkState } from './reconnect.js';

describe('backoffDelay', () => {
  it('starts at firstMs, doubles per failure, stops at maxMs', () => {
    const b = { firstMs: 500, maxMs: 30_000 };
    expect([1, 2, 3, 4, 7, 20].map((n) => backoffDelay(b, n))).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000,
    ]);
  });

  it('spreads a delay by at most ± jitter', () => {
    const b = { firstMs: 1000, maxMs: 60_000, jitter: 0.2 };
    expect(backoffDelay(b, 1, () => 0)).toBe(800);
    expect(backoffDelay(b, 1, () => 0.5)).toBe(1000);
    expect(backoffDelay(b, 1, () => 0.999_999)).toBe(1200);
  });
});

/** A link whose attempts the test settles by hand. */
function link(opts: { delayFor?: (err: unknown) => number | undefined } = {}) {
  const clock = new FakeClock(1_000_000);
  const attempts: Array<{ n: number; ok: () => void; fail: (e: unknown) => void }> = [];
  const states: LinkState['name'][] = [];
  const r = new Reconnector({
    backoff: { firstMs: 100, maxMs: 1000 },
    clock,
    open: (n) =>
      new Promise<void>((ok, fail) => {
        attempts.push({ n, ok, fail });
      }),
    delayFor: opts.delayFor,
    onState: (s) => states.push(s.name),
  });
  return { r, clock, attempts, states };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('Reconnector', () => {
  it('connects with one attempt; start resolves once it settled', async () => {
    const { r, attempts, states } = link();
    const started = r.start();
    expect(r.state).toEqual({ name: 'connecting', attempt: 0 });
    attempts[0]!.ok();
    await started;
    expect(r.state).toEqual({ name: 'connected', since: 1_000_000 });
    expect(states).toEqual(['connecting', 'connected']);
    void r.start(); // a second start while running is a no-op
    expect(attempts).toHaveLength(1);
  });

  it('retries a failed attempt after the backoff, doubling, and resets on success', async () => {
    const { r, clock, attempts } = link();
    const started = r.start();
    attempts[0]!.fail(new Error('refused'));
    await started;
    expect(r.state).toMatchObject({ name: 'reconnecting', attempt: 1, retryAt: 1_000_100 });
    expect((r.state as { error: Error }).error.message).toBe('refused');
    await clock.advance(99);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts.map((a) => a.n)).toEqual([0, 1]);
    attempts[1]!.fail(new Error('again'));
    await flush();
    expect(clock.pending()).toEqual([clock.now() + 200]);
    await clock.advance(200);
    attempts[2]!.ok();
    await flush();
    expect(r.connected).toBe(true);
    // Failures in a row only: after a success the next wait is the first delay again.
    r.lost(new Error('dropped'));
    expect(r.state).toMatchObject({ name: 'reconnecting', attempt: 1 });
    expect(clock.pending()).toEqual([clock.now() + 100]);
  });

  it('a lost link reconnects once, however often the loss is reported', async () => {
    const { r, clock, attempts } = link();
    const started = r.start();
    attempts[0]!.ok();
    await started;
    r.lost(new Error('socket closed'));
    r.lost(new Error('socket closed again'));
    expect(clock.pending()).toHaveLength(1);
    await clock.advance(100);
    expect(attempts).toHaveLength(2);
    expect(r.state).toEqual({ name: 'connecting', attempt: 1 });
  });

  it('a loss while the attempt still runs makes that attempt a failure', async () => {
    const { r, attempts } = link();
    const started = r.start();
    r.lost(new Error('closed before the end of open'));
    attempts[0]!.ok();
    await started;
    expect(r.state).toMatchObject({ name: 'reconnecting', attempt: 1 });
  });

  it('stop clears the timer and disregards an attempt in flight; start begins afresh', async () => {
    const { r, clock, attempts } = link();
    const started = r.start();
    attempts[0]!.fail(new Error('down'));
    await started;
    r.stop();
    expect(clock.pending()).toEqual([]);
    expect(r.state).toEqual({ name: 'stopped', reason: null });
    await clock.advance(10_000);
    expect(attempts).toHaveLength(1);

    const again = r.start();
    expect(attempts.map((a) => a.n)).toEqual([0, 0]);
    r.stop('token revoked');
    attempts[1]!.ok();
    await again;
    expect(r.state).toEqual({ name: 'stopped', reason: 'token revoked' });
    expect(r.stopped).toBe(true);
    r.lost(new Error('late news'));
    expect(clock.pending()).toEqual([]);
  });

  it('an attempt may stop the link for good (a fatal error) before it rejects', async () => {
    const clock = new FakeClock(0);
    const r: Reconnector = new Reconnector({
      backoff: { firstMs: 100, maxMs: 1000 },
      clock,
      open: async () => {
        r.stop('the token was rejected');
        throw new Error('401');
      },
    });
    await r.start();
    expect(r.state).toEqual({ name: 'stopped', reason: 'the token was rejected' });
    expect(clock.pending()).toEqual([]);
  });

  it('takes a wait of its own for some errors, and resetBackoff starts the doubling over', async () => {
    const { r, clock, attempts } = link({
      delayFor: (err) => ((err as Error).message === '401' ? 300_000 : undefined),
    });
    const started = r.start();
    attempts[0]!.fail(new Error('401'));
    await started;
    expect(clock.pending()).toEqual([clock.now() + 300_000]);
    await clock.advance(300_000);
    attempts[1]!.fail(new Error('503'));
    await flush();
    expect(clock.pending()).toEqual([clock.now() + 200]);
    await clock.advance(200);
    r.resetBackoff();
    attempts[2]!.fail(new Error('restart required'));
    await flush();
    expect(clock.pending()).toEqual([clock.now() + 100]);
  });
});
