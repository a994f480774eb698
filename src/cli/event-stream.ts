import http from 'node:http';
import https from 'node:https';
import { ApiError, DaemonUnreachableError, errorFromBody } from './api-errors.js';
import { SseParser, type SseEvent } from './sse.js';

/** A live `GET /api/events` stream. */
export interface EventSubscription {
  /** Ends the stream (then `closed` resolves with null). */
  close(): void;
  /** Resolves when the stream ends: null when closed by us, else why it ended. */
  readonly closed: Promise<Error | null>;
}

/**
 * Opens an SSE stream (`GET <url>` with the bearer token) and calls `onEvent` for each event
 * block. Resolves once the server accepted it (200), rejects when nothing answers or the server
 * refuses. Uses node:http rather than fetch so an idle stream is never cut by a body timeout.
 */
export function openEventStream(opts: {
  url: string;
  token: string;
  /** Named in the "not running" error. */
  baseUrl: string;
  onEvent: (ev: SseEvent) => void;
}): Promise<EventSubscription> {
  const url = new URL(opts.url);
  const token = opts.token;
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<EventSubscription>((resolve, reject) => {
    let accepted = false;
    let closing = false;
    let settle: (why: Error | null) => void = () => undefined;
    const closed = new Promise<Error | null>((r) => {
      let done = false;
      settle = (why) => {
        if (done) return;
        done = true;
        r(closing ? null : why);
      };
    });
    const req = mod.request(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    req.on('error', (err) => {
      if (!accepted) reject(new DaemonUnreachableError(opts.baseUrl, err));
      else settle(err);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(errorFromBody(res.statusCode ?? 0, body, url.href)));
        res.on('error', () =>
          reject(
            new ApiError(
              res.statusCode ?? 0,
              'http_error',
              `HTTP ${res.statusCode} from ${url.href}`,
            ),
          ),
        );
        return;
      }
      accepted = true;
      const parser = new SseParser();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const ev of parser.push(chunk)) opts.onEvent(ev);
      });
      res.on('end', () => settle(new Error('the daemon closed the event stream')));
      res.on('close', () => settle(new Error('the event stream was cut')));
      res.on('error', (err) => settle(err));
      resolve({
        close: () => {
          closing = true;
          req.destroy();
          settle(null);
        },
        closed,
      });
    });
    req.end();
  });
}
