import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './line-diff.js';

const names = { from: 'a/CLAUDE.md', to: 'b/CLAUDE.md' };
const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => f(i + 1)).join('\n') + '\n';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', names)).toBe('');
  });

  it('shows a change with three lines of context, as diff -u does (hunk headers included)', () => {
    const before = lines(10);
    const after = before.replace('line 5\n', 'line five\n');
    expect(unifiedDiff(before, after, names)).toBe(
      [
        '--- a/CLAUDE.md',
        '+++ b/CLAUDE.md',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
    );
  });

  it('keeps far-apart changes in separate hunks and near ones in one', () => {
    const before = lines(30);
    const far = before.replace('line 2\n', '').replace('line 25\n', 'line 25\nnew\n');
    const hunks = unifiedDiff(before, far, names).match(/^@@.*@@$/gm);
    expect(hunks).toEqual(['@@ -1,5 +1,4 @@', '@@ -23,6 +22,7 @@']);
    const near = before.replace('line 5\n', '').replace('line 9\n', 'nine\n');
    expect(unifiedDiff(before, near, names).match(/^@@.*@@$/gm)).toEqual(['@@ -2,11 +2,10 @@']);
  });

  it('diffs from and to an empty file', () => {
    expect(unifiedDiff('', 'a\nb\n', names)).toBe(
      '--- a/CLAUDE.md\n+++ b/CLAUDE.md\n@@ -0,0 +1,2 @@\n+a\n+b\n',
    );
    expect(unifiedDiff('a\n', '', names)).toBe(
      '--- a/CLAUDE.md\n+++ b/CLAUDE.md\n@@ -1 +0,0 @@\n-a\n',
    );
  });

  it('finds the moved and merged lines of a consolidation', () => {
    const before = '# Memory\n- likes tea\n- likes tea.\n- lives in Berlin\n- moved to Lisbon\n';
    const after = '# Memory\n- likes tea\n- lives in Lisbon (moved from Berlin)\n';
    const diff = unifiedDiff(before, after, names);
    expect(
      diff
        .split('\n')
        .slice(2)
        .filter((l) => /^[-+]/.test(l)),
    ).toEqual([
      '-- likes tea.',
      '-- lives in Berlin',
      '-- moved to Lisbon',
      '+- lives in Lisbon (moved from Berlin)',
    ]);
  });
});
