import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** Token shapes of Slack (bot, user, app-level, config tokens). Never logged, never reported. */
const TOKEN = /\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g;

/** A text with every Slack token in it replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(TOKEN, '[redacted]');
}

/** A one-line, token-free description of an error for logs and `health().lastError`. */
export function describeError(err: unknown): string {
  const text =
    err instanceof Error ? err.message : err === undefined ? 'unknown error' : String(err);
  return redactSecrets(text).slice(0, 300);
}

function line(args: unknown[]): string {
  return redactSecrets(
    args
      .map((a) => {
        if (a instanceof Error) return a.message;
        if (typeof a === 'string') return a;
        try {
          return JSON.stringify(a);
        } catch {
          return String(a);
        }
      })
      .join(' '),
  ).slice(0, 500);
}

/**
 * The Slack libraries' logger interface on top of pino. Their debug output (payloads, socket
 * URLs with tickets) is dropped; the rest is redacted and logged one level lower than the
 * library asks, since its "errors" are mostly what the adapter handles (reconnects, retries).
 */
export function slackLogger(log: Logger): SlackLogger {
  let level = LogLevel.INFO;
  return {
    debug: () => undefined,
    info: (...args: unknown[]) => log.debug({ lib: 'slack' }, line(args)),
    warn: (...args: unknown[]) => log.info({ lib: 'slack' }, line(args)),
    error: (...args: unknown[]) => log.warn({ lib: 'slack' }, line(args)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
