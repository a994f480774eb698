import { describe, expect, it } from 'vitest';
import type { TaskRunRecord } from '../store/task-runs.js';
import type { TaskRecord } from '../store/tasks.js';
import { planClaim } from './claim.js';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 4, 1, 12);

const task = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  id: 't1',
  group: 'team',
  chatId: null,
  prompt: 'p',
  type: 'interval',
  value: String(HOUR),
  timezone: 'UTC',
  contextMode: 'isolated',
  missedPolicy: 'latest',
  missedCap: null,
  status: 'active',
  nextRunAt: T,
  anchorAt: T,
  lastRunAt: null,
  leaseOwner: null,
  leaseExpiresAt: null,
  consecutiveFailures: 0,
  preCheck: null,
  createdBy: 'main',
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

const open = (id: number, scheduledFor: number): TaskRunRecord => ({
  id,
  taskId: 't1',
  scheduledFor,
  trigger: 'schedule',
  status: 'running',
  runId: null,
  attempts: 1,
  startedAt: scheduledFor,
  endedAt: null,
  result: null,
  error: null,
  inputTokens: null,
  outputTokens: null,
  costUsd: null,
  createdAt: scheduledFor,
});

describe('planClaim', () => {
  it('on time: runs the due occurrence and advances on the grid', () => {
    const p = planClaim({ task: task(), now: T + 5, interrupted: [] });
    expect(p).toEqual({
      missed: [],
      missedTotal: 0,
      abandon: [],
      run: [{ scheduledFor: T, trigger: 'schedule' }],
      nextRunAt: T + HOUR,
      status: 'active',
    });
  });

  it('not due: changes nothing', () => {
    const p = planClaim({ task: task({ nextRunAt: T + HOUR }), now: T, interrupted: [] });
    expect(p.run).toEqual([]);
    expect(p.nextRunAt).toBe(T + HOUR);
  });

  it('a once task completes when claimed', () => {
    const iso = new Date(T).toISOString();
    const p = planClaim({
      task: task({ type: 'once', value: iso, anchorAt: null }),
      now: T,
      interrupted: [],
    });
    expect(p.run).toHaveLength(1);
    expect(p.status).toBe('completed');
    expect(p.nextRunAt).toBeNull();
  });

  it('an interrupted run is re-run under latest when nothing newer is due', () => {
    const t = task({ nextRunAt: T + HOUR, leaseOwner: 'x', leaseExpiresAt: T + 100 });
    const p = planClaim({ task: t, now: T + 10 * 60_000, interrupted: [open(7, T)] });
    expect(p.run).toEqual([{ scheduledFor: T, trigger: 'schedule' }]);
    expect(p.abandon).toEqual([]);
    expect(p.nextRunAt).toBe(T + HOUR);
  });

  it('latest: a newer due occurrence wins over the interrupted one', () => {
    const t = task({ nextRunAt: T + HOUR, leaseOwner: 'x', leaseExpiresAt: T + 100 });
    const p = planClaim({ task: t, now: T + HOUR + 1000, interrupted: [open(7, T)] });
    expect(p.run).toEqual([{ scheduledFor: T + HOUR, trigger: 'schedule' }]);
    expect(p.abandon).toEqual([7]);
    expect(p.missedTotal).toBe(1);
  });

  it('all: fills its cap with the newest interrupted runs', () => {
    const t = task({
      missedPolicy: 'all',
      missedCap: 3,
      nextRunAt: T + 3 * HOUR,
      leaseOwner: 'x',
      leaseExpiresAt: T,
    });
    const interrupted = [open(1, T), open(2, T + HOUR), open(3, T + 2 * HOUR)];
    const p = planClaim({ task: t, now: T + 3 * HOUR + 5, interrupted });
    expect(p.run.map((r) => r.scheduledFor)).toEqual([T + HOUR, T + 2 * HOUR, T + 3 * HOUR]);
    expect(p.abandon).toEqual([1]);
  });

  it('skip: re-runs an interrupted run only within the grace period', () => {
    const t = task({
      missedPolicy: 'skip',
      nextRunAt: T + HOUR,
      leaseOwner: 'x',
      leaseExpiresAt: T,
    });
    expect(planClaim({ task: t, now: T + 30_000, interrupted: [open(1, T)] }).run).toHaveLength(1);
    const late = planClaim({ task: t, now: T + 5 * 60_000, interrupted: [open(1, T)] });
    expect(late.run).toEqual([]);
    expect(late.abandon).toEqual([1]);
  });

  it('a paused or cancelled task re-runs nothing', () => {
    for (const status of ['paused', 'cancelled'] as const) {
      const t = task({ status, leaseOwner: 'x', leaseExpiresAt: T });
      const p = planClaim({ task: t, now: T + 2 * HOUR, interrupted: [open(1, T)] });
      expect(p.run).toEqual([]);
      expect(p.abandon).toEqual([1]);
      expect(p.status).toBe(status);
    }
  });

  it('an interrupted once task (already completed) is re-run by latest', () => {
    const t = task({
      type: 'once',
      value: new Date(T).toISOString(),
      anchorAt: null,
      status: 'completed',
      nextRunAt: null,
      leaseOwner: 'x',
      leaseExpiresAt: T,
    });
    const p = planClaim({ task: t, now: T + HOUR, interrupted: [open(1, T)] });
    expect(p.run).toEqual([{ scheduledFor: T, trigger: 'schedule' }]);
    expect(p.status).toBe('completed');
  });
});
