import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Keys whose values are never written to a log line, wherever they appear. */
const REDACT = [
  'token',
  'apiKey',
  'password',
  'secret',
  'authorization',
  '*.token',
  '*.apiKey',
  '*.password',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'env',
  '*.env',
];

export interface LoggerOptions {
  /** JSON log file; created (mode 0600) with its directory (0700). Omit for no file. */
  file?: string;
  /** Pretty human lines on stdout (a TTY); false keeps stdout quiet unless `stdoutJson`. */
  pretty?: boolean;
  stdoutJson?: boolean;
  level?: string;
}

/** Builds the process logger: JSON to file, pretty on a TTY, secrets redacted. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    // Log lines carry message metadata: readable by the owner only, whatever the umask.
    streams.push({
      stream: pino.destination({ dest: opts.file, mkdir: true, sync: false, mode: 0o600 }),
    });
  }
  if (opts.pretty) streams.push({ stream: pretty({ colorize: true, sync: true }) });
  else if (opts.stdoutJson) streams.push({ stream: process.stdout });
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    pino.multistream(streams.length ? streams : [{ stream: pino.destination('/dev/null') }]),
  );
}

/** A logger that writes nothing (tests, library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
