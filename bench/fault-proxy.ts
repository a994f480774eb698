/**
 * An HTTP forwarder on 127.0.0.1 between the daemon and a fake platform, that can stop one
 * request at a chosen point of its life, for the crash matrix:
 * - `pass`: forwarded, the answer streamed back (long polls included);
 * - `drop`: held and never forwarded (the platform never sees it), as if the network stalled
 *   before the send reached the platform;
 * - `hold-answer`: forwarded (the platform has the message) but the answer is held, as if the
 *   connection died after the platform accepted the send (or, with {@link release}, as a
 *   platform that answers late).
 * `onStop` is called once such a request is held: the moment to kill the daemon.
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Verdict = 'pass' | 'drop' | 'hold-answer';

/** What the proxy saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  body: string;
}

export class FaultProxy {
  /** Decides each request's fate (default: pass everything). */
  decide: (req: SeenRequest) => Verdict = () => 'pass';
  /** Called once a `drop` or `hold-answer` request is held. */
  onStop: (req: SeenRequest) => void = () => undefined;
  /** Called after the platform answered a passed request (the answer is on its way back). */
  onPassed: (req: SeenRequest) => void = () => undefined;

  /** Answers of `hold-answer` requests, waiting for {@link release}. */
  private held: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {}

  /** Forwards to `upstream` (an origin, e.g. the fake's `http://127.0.0.1:port`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((req, res) => void holder.proxy!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    holder.proxy = new FaultProxy(server, new URL(upstream));
    return holder.proxy;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sends the held answers on (a platform that answered late); false if none was held. */
  release(): boolean {
    const held = this.held.splice(0);
    for (const answer of held) answer();
    return held.length > 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = Buffer.concat(parts);
    const seen = { method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString() };
    const verdict = this.decide(seen);
    if (verdict === 'drop') {
      this.onStop(seen);
      return; // never forwarded; the daemon's death closes the socket
    }
    const up = request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: seen.method,
        path: seen.path,
        headers: { ...req.headers, host: this.upstream.host },
      },
      (answer) => {
        if (verdict === 'hold-answer') {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.once('end', () => {
            this.held.push(() => {
              if (res.destroyed) return;
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(parts));
            });
            this.onStop(seen);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', () => this.onPassed(seen));
      },
    );
    up.on('error', () => res.destroy());
    // The daemon went away (killed, or a long poll it gave up): release the platform's side too.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  }
}
