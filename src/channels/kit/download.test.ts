import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../../test/support/cli-helpers.js';
import { downloadCapped } from './download.js';

let base = '';
const requested: Array<{ url: string; auth?: string }> = [];
let streamedBytes = 0;
let endlessClosed: Promise<void> = Promise.resolve();
const server = createServer((req, res) => {
  requested.push({ url: req.url ?? '', auth: req.headers.authorization });
  if (req.url === '/missing') return void res.writeHead(404).end();
  if (req.url === '/announced-big') {
    res.writeHead(200, { 'content-length': '99999' });
    return void res.write(Buffer.alloc(10));
  }
  if (req.url === '/endless') {
    // No Content-Length: chunks until the client hangs up.
    res.writeHead(200);
    const tick = setInterval(() => {
      streamedBytes += 1024;
      res.write(Buffer.alloc(1024, 7));
    }, 1);
    endlessClosed = new Promise((r) =>
      res.on('close', () => {
        clearInterval(tick);
        r();
      }),
    );
    return;
  }
  res.writeHead(200);
  res.end(Buffer.alloc(10, 1));
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const opts = { maxBytes: 2048, timeoutMs: 5000 };

describe('downloadCapped', () => {
  it('fetches a file within the cap, with the headers given', async () => {
    const got = await downloadCapped(`${base}/ok`, {
      ...opts,
      headers: { authorization: 'Bearer t' },
    });
    expect(got).toEqual({ kind: 'ok', data: Buffer.alloc(10, 1) });
    expect(requested.at(-1)).toEqual({ url: '/ok', auth: 'Bearer t' });
  });

  it('refuses an announced size over the cap without reading the body', async () => {
    expect(await downloadCapped(`${base}/announced-big`, opts)).toEqual({
      kind: 'too-big',
      bytes: 99_999,
    });
  });

  it('cuts a body off as soon as it passes the cap', async () => {
    expect(await downloadCapped(`${base}/endless`, opts)).toEqual({ kind: 'too-big' });
    await endlessClosed; // the client hung up
    expect(streamedBytes).toBeLessThan(1024 * 1024);
  });

  it('reports HTTP and network failures without the URL, never throwing', async () => {
    expect(await downloadCapped(`${base}/missing`, opts)).toEqual({
      kind: 'http-error',
      status: 404,
    });
    const port = await closedPort();
    const down = await downloadCapped(`http://127.0.0.1:${port}/bot123:secret/file`, opts);
    expect(down).toMatchObject({ kind: 'network-error', code: 'ECONNREFUSED' });
    const bad = await downloadCapped('http://[bad/bot123:secret/x', opts);
    expect(bad.kind).toBe('network-error');
    expect(JSON.stringify([down, bad])).not.toContain('secret');
  });
});
