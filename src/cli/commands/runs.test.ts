import { describe, expect, it } from 'vitest';
import type { AgentSessionRecord } from '../../store/agent-sessions.js';
import type { RunRecord } from '../../store/runs.js';
import { renderRun, renderRuns, renderSessions } from './runs.js';

const session = (over: Partial<AgentSessionRecord>): AgentSessionRecord => ({
  id: 'ses_1',
  group: 'main',
  lane: 'main',
  harness: 'claude',
  state: 'idle',
  turns: 2,
  startedAt: 0,
  lastActiveAt: 60_000,
  endedAt: null,
  endReason: null,
  ...over,
});

describe('clawpod runs sessions', () => {
  it('shows live sessions apart from runs, with their lane and why closed ones ended', () => {
    const out = renderSessions(
      [
        session({}),
        session({
          id: 'ses_2',
          lane: 'main#task:t1',
          state: 'closed',
          endedAt: 120_000,
          endReason: 'idle timeout',
        }),
      ],
      300_000,
    );
    const [header, live, closed] = out.split('\n');
    expect(header).toMatch(/ID\s+GROUP\s+LANE\s+HARNESS\s+STATE\s+TURNS/);
    expect(live).toMatch(/ses_1\s+main\s+conversation\s+claude\s+idle\s+2/);
    expect(live).toContain('(live 5m');
    expect(closed).toMatch(/ses_2\s+main\s+task:t1\s+claude\s+closed/);
    expect(closed).toContain('idle timeout');
  });

  it('says so when there are none', () => {
    expect(renderSessions([])).toBe('no agent sessions yet');
  });
});

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 'run_parent',
  group: 'main',
  kind: 'message',
  taskId: null,
  chatId: 'web:main',
  replyTo: null,
  sessionId: null,
  parentRunId: null,
  billedTo: [],
  seqStart: 1,
  seqEnd: 1,
  attempt: 1,
  status: 'ok',
  startedAt: 0,
  endedAt: 1000,
  error: null,
  usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.01 },
  taint: [],
  skipped: null,
  ...over,
});

describe('clawpod runs: delegation', () => {
  const child = run({
    id: 'run_child',
    group: 'coder',
    kind: 'delegate',
    parentRunId: 'run_parent',
    billedTo: ['main'],
  });

  it('marks a delegate run as the child of its caller in the list', () => {
    const [, parent, kid] = renderRuns([run({}), child], 5000).split('\n');
    expect(parent).toMatch(/^run_parent\s+main\s+chat/);
    expect(kid).toMatch(/^↳ run_child\s+coder\s+delegate/);
  });

  it('shows the parent of a delegate run and the children of its caller', () => {
    expect(renderRun(child, 5000)).toMatch(
      /parent:\s+run_parent[\s\S]*billed to: main \(and coder\)/,
    );
    expect(renderRun(run({}), 5000, { children: [child] })).toMatch(/child:\s+run_child coder ok/);
  });

  it('labels a delegation lane in the sessions list', () => {
    expect(renderSessions([session({ group: 'coder', lane: 'delegate:dlg_1' })], 1000)).toMatch(
      /ses_1\s+coder\s+delegate:dlg_1/,
    );
  });
});
