import { describe, expect, it } from 'vitest';
import { formatDuration, table } from './format.js';

describe('formatting', () => {
  it('durations and tables', () => {
    expect(formatDuration(450)).toBe('450ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(125_000)).toBe('2m 05s');
    expect(formatDuration(null)).toBe('-');
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1');
  });
});
