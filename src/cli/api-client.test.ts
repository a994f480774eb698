import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, DaemonUnreachableError, daemonUrl } from './api-client.js';
import type { SseEvent } from './sse.js';
import type { Config } from '../config/load.js';
import { closedPort } from '../../test/support/cli-helpers.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  return new Promise((resolve) => {
    server!.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server!.address() as { port: number }).port}`),
    );
  });
}

describe('daemonUrl', () => {
  // A home without a recorded daemon address: the config decides.
  const home = mkdtempSync(join(tmpdir(), 'clawpod-url-'));
  const config = (host: string, port: number) =>
    ({ paths: { home }, file: { http: { host, port } } }) as unknown as Config;
  it('uses config host/port, brackets IPv6, maps wildcards to loopback, honours CLAWPOD_URL', () => {
    expect(daemonUrl(config('127.0.0.1', 7420), {})).toBe('http://127.0.0.1:7420');
    expect(daemonUrl(config('::1', 80), {})).toBe('http://[::1]:80');
    expect(daemonUrl(config('0.0.0.0', 1), {})).toBe('http://127.0.0.1:1');
    expect(daemonUrl(config('127.0.0.1', 1), { CLAWPOD_URL: 'http://x:9/' })).toBe('http://x:9');
  });
});

describe('ApiClient', () => {
  it('says clearly when the daemon is not running', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const client = new ApiClient({ baseUrl: url, token: 't' });
    await expect(client.status()).rejects.toThrow(DaemonUnreachableError);
    await expect(client.status()).rejects.toThrow(
      `the daemon is not running at ${url} (start it with \`clawpod start\`)`,
    );
    expect(await client.probe()).toBeNull();
    await expect(client.subscribe({ onEvent: () => undefined })).rejects.toThrow(
      DaemonUnreachableError,
    );
  });

  it('sends the bearer token and surfaces {error:{code,message}} as ApiError', async () => {
    const seen: Array<string | undefined> = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'no group named "x"' } }));
    });
    const client = new ApiClient({ baseUrl: url, token: 'secret-token' });
    const err = await client.group('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no group named "x"' });
    expect(seen).toEqual(['Bearer secret-token']);
  });

  it("a daemon that refuses the token is said to be another installation's, naming the token file", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'unauthorized', message: 'missing or wrong bearer token' },
        }),
      );
    });
    const client = new ApiClient({ baseUrl: url, token: 'mine' });
    await expect(client.status()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(client.status()).rejects.toThrow(
      `the daemon at ${url} refused this installation's API token: it belongs to another data dir`,
    );
  });

  it('a missing token file is a clear error', async () => {
    const client = new ApiClient({
      baseUrl: 'http://127.0.0.1:1',
      tokenFile: '/nonexistent/api-token',
    });
    await expect(client.status()).rejects.toThrow(/no API token at \/nonexistent\/api-token/);
  });

  it('subscribe streams SSE events until closed', async () => {
    const url = await serve((req, res) => {
      expect(req.url).toBe('/api/events?chat=web%3Amain');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ready\ndata: {}\n\n');
      res.write('event: message\nid: 1\ndata: {"seq":1}\n\n');
    });
    const client = new ApiClient({ baseUrl: url, token: 't' });
    const events: SseEvent[] = [];
    let got: () => void = () => undefined;
    const two = new Promise<void>((r) => (got = r));
    const sub = await client.subscribe({
      chat: 'web:main',
      onEvent: (ev) => {
        events.push(ev);
        if (events.length === 2) got();
      },
    });
    await two;
    expect(events.map((e) => e.event)).toEqual(['ready', 'message']);
    sub.close();
    expect(await sub.closed).toBeNull();
  });

  it('reports a stream the server ends', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: ready\ndata: {}\n\n');
    });
    const sub = await new ApiClient({ baseUrl: url, token: 't' }).subscribe({
      onEvent: () => undefined,
    });
    expect((await sub.closed)?.message).toMatch(/closed the event stream|cut/);
  });
});
