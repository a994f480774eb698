import { describe, expect, it } from 'vitest';
import { completeLines } from './logs.js';

describe('completeLines', () => {
  it('keeps a trailing partial line for later and can drop a cut first line', () => {
    expect(completeLines('a\nb\npart', 10, false)).toEqual({ lines: ['a', 'b'], next: 14 });
    expect(completeLines('cut\nb\n', 0, true)).toEqual({ lines: ['b'], next: 6 });
    expect(completeLines('no newline', 3, false)).toEqual({ lines: [], next: 3 });
    expect(completeLines('é\n', 0, false).next).toBe(3);
  });
});
