import { describe, expect, it } from 'vitest';
import { chunkText } from './chunk.js';

const nonWs = (s: string) => s.replace(/\s+/g, '');

/** Small deterministic PRNG so a failing case can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomText(rand: () => number, words: number): string {
  const seps = [' ', ' ', ' ', ' ', '\n', '\n\n', '  '];
  let out = '';
  for (let i = 0; i < words; i++) {
    const len = 1 + Math.floor(rand() * (rand() < 0.05 ? 120 : 12));
    for (let j = 0; j < len; j++) out += String.fromCharCode(97 + Math.floor(rand() * 26));
    out += seps[Math.floor(rand() * seps.length)];
  }
  return out;
}

describe('chunkText', () => {
  it('returns short text as one chunk, trimmed', () => {
    expect(chunkText('  hello  ', 10)).toEqual(['hello']);
    expect(chunkText('exactly10!', 10)).toEqual(['exactly10!']);
  });

  it('returns nothing for empty or blank text', () => {
    expect(chunkText('', 10)).toEqual([]);
    expect(chunkText(' \n\n ', 10)).toEqual([]);
  });

  it('refuses a non-positive limit', () => {
    expect(() => chunkText('abc', 0)).toThrow(RangeError);
  });

  it('splits at a paragraph break before a line break or space', () => {
    const text = 'aaaa bbbb\n\ncccc\ndddd eeee';
    // Window of 17 chars holds a line break (at 15), but the paragraph break (at 9, in the
    // second half of the window) wins.
    expect(chunkText(text, 16)).toEqual(['aaaa bbbb', 'cccc\ndddd eeee']);
  });

  it('ignores a paragraph break in the first half of the window (fewer, fuller chunks)', () => {
    const text = 'aaaa bbbb\n\ncccc\ndddd eeee';
    expect(chunkText(text, 20)).toEqual(['aaaa bbbb\n\ncccc', 'dddd eeee']);
  });

  it('splits at a line break when there is no paragraph break in reach', () => {
    const text = 'aaaa bbbb\ncccc dddd eeee';
    expect(chunkText(text, 16)).toEqual(['aaaa bbbb', 'cccc dddd eeee']);
  });

  it('splits at the last space when there is no line break in reach', () => {
    expect(chunkText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
  });

  it('hard-cuts a word longer than the limit', () => {
    expect(chunkText('abcdefghijklmnopqrstuvwxyz', 10)).toEqual([
      'abcdefghij',
      'klmnopqrst',
      'uvwxyz',
    ]);
    expect(chunkText('hi abcdefghijklmnop', 5)).toEqual(['hi', 'abcde', 'fghij', 'klmno', 'p']);
  });

  it('uses a separator sitting exactly at the limit', () => {
    expect(chunkText('abcde fgh', 5)).toEqual(['abcde', 'fgh']);
  });

  it('works with a limit of 1', () => {
    expect(chunkText('ab c', 1)).toEqual(['a', 'b', 'c']);
  });

  it('keeps every chunk within the limit and loses no text (random inputs)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const text = randomText(rand, 5 + Math.floor(rand() * 300));
      const limit = 1 + Math.floor(rand() * 400);
      const chunks = chunkText(text, limit);
      for (const c of chunks) {
        expect(c.length, `seed ${seed}`).toBeLessThanOrEqual(limit);
        expect(c.length, `seed ${seed}`).toBeGreaterThan(0);
        expect(c, `seed ${seed}`).toBe(c.trim());
      }
      expect(nonWs(chunks.join('')), `seed ${seed}`).toBe(nonWs(text));
    }
  });

  it('fits a Telegram-sized message into 4096-char chunks without losing text', () => {
    const text = randomText(prng(42), 3000);
    const chunks = chunkText(text, 4096);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(4096);
    expect(nonWs(chunks.join(''))).toBe(nonWs(text));
  });

  it('keeps a code block a code block across pieces, within the limit', () => {
    const code = Array.from({ length: 30 }, (_, i) => `const line${i} = ${i};`).join('\n');
    const text = `Here is the file:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const pieces = chunkText(text, 200);
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(200);
      expect((p.match(/^\s*```/gm) ?? []).length % 2).toBe(0);
    }
    expect(pieces[1]!.startsWith('```ts\n')).toBe(true);
    expect(pieces.join('\n')).toContain('const line29 = 29;');
  });
});
