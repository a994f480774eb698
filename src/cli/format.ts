import type { RunRecord } from '../store/runs.js';

/** `1.2s`, `3m 04s`, `2h 05m`; `-` for null. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local `YYYY-MM-DD HH:MM:SS`; `-` for null. */
export function formatTime(ts: number | null | undefined): string {
  if (ts === null || ts === undefined) return '-';
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `12s ago`, `3m ago`… relative to `now`. */
export function formatAgo(ts: number | null | undefined, now = Date.now()): string {
  if (ts === null || ts === undefined) return 'never';
  return `${formatDuration(Math.max(0, now - ts)).replace(/\.\d+s$/, 's')} ago`;
}

/** `1234` → `1.2k`; `-` when absent. */
export function formatCount(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** The run's token summary: `in/out` (plus cache reads when any). */
export function formatTokens(run: Pick<RunRecord, 'usage'>): string {
  const u = run.usage ?? {};
  if (u.inputTokens === undefined && u.outputTokens === undefined) return '-';
  const cache = u.cacheReadTokens ? ` +${formatCount(u.cacheReadTokens)} cached` : '';
  return `${formatCount(u.inputTokens ?? 0)}/${formatCount(u.outputTokens ?? 0)}${cache}`;
}

/** `$0.0123`; `-` when unknown. */
export function formatCost(usd: number | undefined): string {
  return usd === undefined ? '-' : `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** A run's duration so far (or in total once ended). */
export function runDuration(
  run: Pick<RunRecord, 'startedAt' | 'endedAt'>,
  now = Date.now(),
): number {
  return (run.endedAt ?? now) - run.startedAt;
}

/** Cuts `s` to one line of at most `max` characters. */
export function oneLine(s: string | null | undefined, max = 80): string {
  if (!s) return '';
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Left-aligned columns separated by two spaces; the header row first. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Pretty JSON for `--json` output. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
