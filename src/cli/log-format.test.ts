import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-format.js';

describe('formatLogLine', () => {
  it('shows time, level, part, message and context, hiding pid', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 2, 1, 8, 30, 5, 42),
      pid: 9,
      part: 'runs',
      msg: 'run failed',
      run: 'run_1',
      group: 'ops',
      err: { type: 'Error', message: 'boom now', stack: '...' },
      n: 3,
    });
    expect(formatLogLine(line)).toBe(
      '2026-03-01 08:30:05.042 ERROR [runs] run failed group=ops run=run_1 err="boom now" n=3',
    );
  });

  it('passes non-JSON lines through', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });
});
