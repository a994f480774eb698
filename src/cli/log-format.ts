import { formatTime } from './format.js';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v', 'part', 'channel']);
/** Context keys shown first, in this order. */
const FIRST = ['group', 'run', 'chat', 'task', 'attempt'];

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (
    v &&
    typeof v === 'object' &&
    'message' in v &&
    typeof (v as { message: unknown }).message === 'string'
  ) {
    return JSON.stringify((v as { message: string }).message);
  }
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON log line as a human line: `time LEVEL [part] msg key=value…` with the
 * group/run/chat context first. Lines that are not pino JSON come back unchanged.
 */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    rec = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time =
    typeof rec.time === 'number'
      ? rec.time
      : typeof rec.time === 'string'
        ? Date.parse(rec.time)
        : NaN;
  const ms = Number.isFinite(time) ? `.${String(time % 1000).padStart(3, '0')}` : '';
  const when = Number.isFinite(time) ? formatTime(time) + ms : '-';
  const level = (
    typeof rec.level === 'number'
      ? (LEVELS[rec.level] ?? String(rec.level))
      : String(rec.level ?? '?').toUpperCase()
  ).padEnd(5);
  const where = [rec.part, rec.channel].filter((x) => typeof x === 'string').join('/');
  const keys = [
    ...FIRST.filter((k) => k in rec),
    ...Object.keys(rec).filter((k) => !HIDDEN.has(k) && !FIRST.includes(k)),
  ];
  const ctx = keys.map((k) => `${k}=${value(rec[k])}`);
  return [
    when,
    level,
    where ? `[${where}]` : '',
    typeof rec.msg === 'string' ? rec.msg : '',
    ...ctx,
  ]
    .filter(Boolean)
    .join(' ');
}
