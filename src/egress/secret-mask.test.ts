import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maskHeaders, SECRET_MASK, SecretMaskStream, secretOf } from './secret-mask.js';

const SECRET = 'sk-ant-REAL-0123456789';

async function through(chunks: string[], secret = SECRET): Promise<string[]> {
  const out: string[] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(
    new SecretMaskStream(secret),
  );
  for await (const c of stream) out.push((c as Buffer).toString('utf8'));
  return out;
}

describe('secret mask', () => {
  it('masks the secret wherever a chunk boundary falls, and keeps everything else', async () => {
    const text = `{"error":"bad key ${SECRET}","again":"${SECRET}${SECRET}","s":"sk-"}`;
    const expected = text.split(SECRET).join(SECRET_MASK);
    for (let a = 0; a <= text.length; a++) {
      for (const b of [a + 1, a + 7, a + SECRET.length - 1]) {
        const chunks = [text.slice(0, a), text.slice(a, b), text.slice(b)].filter(Boolean);
        const out = (await through(chunks)).join('');
        expect(out, `split at ${a}/${b}`).toBe(expected);
      }
    }
  });

  it('passes a chunk on at once unless it ends in the start of the secret', async () => {
    const event = 'event: message_start\ndata: {}\n\n';
    const chunks: string[] = [];
    const stream = new SecretMaskStream(SECRET);
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    stream.write(Buffer.from(event));
    await new Promise((r) => setImmediate(r));
    expect(chunks).toEqual([event]);
    stream.write(Buffer.from('partial sk-ant'));
    await new Promise((r) => setImmediate(r));
    expect(chunks).toEqual([event, 'partial ']); // "sk-ant" waits for the next chunk
    stream.end(Buffer.from('-other'));
    await new Promise((r) => stream.on('end', r));
    expect(chunks.join('')).toBe(`${event}partial sk-ant-other`);
  });

  it('masks header values and finds the secret of a Bearer credential', () => {
    expect(secretOf({ header: 'authorization', value: 'Bearer tok-1' })).toBe('tok-1');
    expect(secretOf({ header: 'x-api-key', value: 'key-1' })).toBe('key-1');
    const h = maskHeaders({ 'x-echo': `k=${SECRET}`, 'set-cookie': [SECRET, 'a'], n: 3 }, SECRET);
    expect(h).toEqual({ 'x-echo': `k=${SECRET_MASK}`, 'set-cookie': [SECRET_MASK, 'a'], n: 3 });
  });
});
