import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachments } from './downloads.js';

let base = '';
const requested: string[] = [];
const server = createServer((req, res) => {
  requested.push(req.url ?? '');
  if (req.url === '/missing') {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200);
  res.end(Buffer.alloc(req.url === '/big' ? 5000 : 10, 1));
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ref = (name: string, path: string, size = 10) => ({
  name,
  contentType: 'image/png',
  size,
  url: `${base}${path}`,
});

describe('downloadAttachments', () => {
  it('fetches files within the cap and notes the rest without failing the message', async () => {
    const { files, notes } = await downloadAttachments(
      [
        ref('ok.png', '/ok'),
        ref('announced-big.png', '/never', 99_999),
        ref('lying.png', '/big'),
        ref('gone.png', '/missing'),
        { ...ref('odd.png', ''), url: 'file:///etc/passwd' },
      ],
      { maxBytes: 2048 },
    );
    expect(files).toEqual([{ name: 'ok.png', mime: 'image/png', data: Buffer.alloc(10, 1) }]);
    expect(notes).toEqual([
      '[attachment not downloaded: announced-big.png (image/png, 99999 bytes, over the 2048-byte limit)]',
      '[attachment not downloaded: lying.png (image/png, over the 2048-byte limit)]',
      '[attachment not downloaded: gone.png (image/png, download failed: HTTP 404)]',
      '[attachment not downloaded: odd.png (image/png, not an http(s) URL)]',
    ]);
    expect(requested).not.toContain('/never');
  });
});
