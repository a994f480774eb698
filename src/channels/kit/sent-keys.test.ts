import { describe, expect, it } from 'vitest';
import { SentKeys } from './sent-keys.js';

describe('SentKeys', () => {
  it('answers what was sent under a key, and forgets the oldest past its bound', () => {
    const sent = new SentKeys(3);
    for (const k of ['a', 'b', 'c']) sent.remember(k, `id-${k}`);
    expect(sent.get('a')).toBe('id-a');
    sent.remember('d', 'id-d');
    expect(sent.has('a')).toBe(false);
    expect([sent.get('b'), sent.get('d'), sent.size]).toEqual(['id-b', 'id-d', 3]);
  });

  it('a key remembered again is the newest; forget drops it', () => {
    const sent = new SentKeys<true>(2);
    sent.remember('x', true);
    sent.remember('y', true);
    sent.remember('x', true);
    sent.remember('z', true);
    expect([sent.has('x'), sent.has('y'), sent.has('z')]).toEqual([true, false, true]);
    sent.forget('x');
    expect(sent.has('x')).toBe(false);
  });
});
