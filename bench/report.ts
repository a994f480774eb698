import { availableParallelism } from 'node:os';

/** A benchmark figure: name, value, unit, optional goal text and whether it was met. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: string;
  met?: boolean;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

/** Prints a table, then one JSON line (`BENCH_JSON {...}`) for machines. */
export function printReport(title: string, figures: Figure[], meta: Record<string, unknown>): void {
  const rows = figures.map((f) => [
    f.name,
    `${Number.isInteger(f.value) ? f.value : f.value.toFixed(3)} ${f.unit}`,
    f.goal ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'MISSED',
  ]);
  const widths = [0, 1, 2, 3].map((c) =>
    Math.max(...[['figure', 'value', 'goal', ''], ...rows].map((r) => r[c]!.length)),
  );
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(['figure', 'value', 'goal', '']));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('BENCH_JSON ' + JSON.stringify({ title, meta, figures }));
}

export function machineMeta(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset',
    date: new Date().toISOString(),
  };
}
