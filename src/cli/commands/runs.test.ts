import { describe, expect, it } from 'vitest';
import type { AgentSessionRecord } from '../../store/agent-sessions.js';
import { renderSessions } from './runs.js';

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
