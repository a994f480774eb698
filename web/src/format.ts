/** Small display helpers (times, durations, money, tokens). */

export function when(ms: number | null | undefined, zone?: string): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString() && !zone;
  return new Intl.DateTimeFormat(undefined, {
    ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
    hour: '2-digit',
    minute: '2-digit',
    ...(zone ? { timeZone: zone, weekday: 'short' } : {}),
  }).format(d);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const usd = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : x < 0.01 && x > 0 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`;

export const tokens = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);

export const ago = (ms: number): string => {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
};

/** Runs stopped by the owner end as errors that say so (see the API docs). */
export const STOPPED = 'stopped by the owner';
export const runLabel = (status: string, error: string | null): string =>
  status === 'error' && error === STOPPED ? 'stopped' : status;
