/**
 * A tiny HTTP server on 127.0.0.1 standing in for a model API (or any upstream) in tests and
 * benchmarks. It records every request (method, path, headers, body) and answers:
 *
 * - a request whose JSON body has `"stream": true`: an SSE stream. The first event is written at
 *   once; the rest waits until the test calls `release()` (when `holdStreams` is on), so a test
 *   can prove that the first chunk got through before the upstream finished;
 * - anything else: JSON `{method, path, headers}` (headers only when `echoHeaders`), status 200.
 *
 * Like a careless gateway it can reflect request headers back (`reflectHeaders`, as response
 * headers `x-reflected-<name>`) and gzip its answers whatever the client accepts (`gzip`).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface EchoUpstreamOptions {
  /** Hold each SSE stream after its first event until `release()`. Default false. */
  holdStreams?: boolean;
  /** Include the received headers in JSON answers. Default true. */
  echoHeaders?: boolean;
  /** Request headers copied into each answer as `x-reflected-<name>`. Default none. */
  reflectHeaders?: string[];
  /** Gzip JSON answers even when the client asked for identity. Default false. */
  gzip?: boolean;
}

export interface EchoUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Resolves with the next request received (after its body was read). */
  nextRequest(): Promise<RecordedRequest>;
  /** Lets every held stream finish (and later ones run through). */
  release(): void;
  close(): Promise<void>;
}

export async function startEchoUpstream(opts: EchoUpstreamOptions = {}): Promise<EchoUpstream> {
  const requests: RecordedRequest[] = [];
  const waiters: Array<(r: RecordedRequest) => void> = [];
  let released = !opts.holdStreams;
  const held: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(rec);
      waiters.splice(0).forEach((w) => w(rec));
      const stream = (() => {
        try {
          return (JSON.parse(rec.body) as { stream?: unknown }).stream === true;
        } catch {
          return false;
        }
      })();
      for (const name of opts.reflectHeaders ?? []) {
        const value = req.headers[name];
        if (value !== undefined) res.setHeader(`x-reflected-${name}`, value);
      }
      if (!stream) {
        const body = JSON.stringify({
          method: rec.method,
          path: rec.path,
          ...(opts.echoHeaders === false ? {} : { headers: rec.headers }),
        });
        if (opts.gzip) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(gzipSync(body));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
        }
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message_start\ndata: {"type":"message_start"}\n\n');
      const rest = () => {
        res.write('event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n');
        res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
      };
      if (released) rest();
      else held.push(rest);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    nextRequest: () => new Promise((r) => waiters.push(r)),
    release: () => {
      released = true;
      held.splice(0).forEach((f) => f());
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
