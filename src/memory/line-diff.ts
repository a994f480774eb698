/** Most cells of the LCS table; past it the changed middle is shown as replaced whole. */
const MAX_LCS_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** The edit script from `a` to `b`: common prefix and suffix, LCS in between. */
function editScript(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  if ((midA.length + 1) * (midB.length + 1) > MAX_LCS_CELLS) {
    ops.push(...midA.map((line) => ({ kind: '-' as const, line })));
    ops.push(...midB.map((line) => ({ kind: '+' as const, line })));
  } else {
    // lcs[i][j]: length of the LCS of midA[i..] and midB[j..].
    const w = midB.length + 1;
    const lcs = new Uint32Array((midA.length + 1) * w);
    for (let i = midA.length - 1; i >= 0; i--)
      for (let j = midB.length - 1; j >= 0; j--)
        lcs[i * w + j] =
          midA[i] === midB[j]
            ? lcs[(i + 1) * w + j + 1]! + 1
            : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < midA.length || j < midB.length) {
      if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
        ops.push({ kind: ' ', line: midA[i++]! });
        j++;
      } else if (
        i < midA.length &&
        (j === midB.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)
      ) {
        // Removals before additions, as diff -u shows a changed block.
        ops.push({ kind: '-', line: midA[i++]! });
      } else {
        ops.push({ kind: '+', line: midB[j++]! });
      }
    }
  }
  ops.push(...a.slice(endA).map((line) => ({ kind: ' ' as const, line })));
  return ops;
}

/**
 * A unified diff (`diff -u` form) of two texts, line by line, with `context` lines around each
 * change; '' when they are the same. Pure. Meant for memory files (kilobytes): a changed middle
 * too large for the LCS table is shown as removed and added whole.
 */
export function unifiedDiff(
  before: string,
  after: string,
  names: { from: string; to: string },
  context = 3,
): string {
  const ops = editScript(splitLines(before), splitLines(after));
  if (!ops.some((o) => o.kind !== ' ')) return '';
  const out = [`--- ${names.from}`, `+++ ${names.to}`];
  // Line numbers (1-based) in a and b of each op.
  const at: Array<{ a: number; b: number }> = [];
  let na = 1;
  let nb = 1;
  for (const o of ops) {
    at.push({ a: na, b: nb });
    if (o.kind !== '+') na++;
    if (o.kind !== '-') nb++;
  }
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k === ops.length) break;
    const from = Math.max(0, k - context);
    // Extend over changes separated by at most 2 * context unchanged lines.
    let end = k;
    let last = k;
    while (end < ops.length) {
      if (ops[end]!.kind !== ' ') last = end;
      else if (end - last > 2 * context) break;
      end++;
    }
    const to = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(from, to);
    const countA = hunk.filter((o) => o.kind !== '+').length;
    const countB = hunk.filter((o) => o.kind !== '-').length;
    const startA = countA ? at[from]!.a : at[from]!.a - 1;
    const startB = countB ? at[from]!.b : at[from]!.b - 1;
    // As diff -u writes them: a count of 1 is left out.
    const range = (start: number, count: number) =>
      count === 1 ? `${start}` : `${start},${count}`;
    out.push(`@@ -${range(startA, countA)} +${range(startB, countB)} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = to;
  }
  return out.join('\n') + '\n';
}
