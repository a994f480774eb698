import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderPrompt } from './prompt.js';
import { checkAuth, checkFreshness, sign } from './verify.js';

const NOW = 1_800_000_000_000;
const TS = String(NOW / 1000);
const body = Buffer.from('{"a":1}');

describe('webhook verification', () => {
  it('accepts a fresh timestamp and a well-formed nonce only', () => {
    expect(checkFreshness({ timestamp: TS, nonce: 'abcdefgh' }, NOW)).toMatchObject({ ok: true });
    const at = (s: number) => checkFreshness({ timestamp: String(s), nonce: 'abcdefgh' }, NOW);
    expect(at(NOW / 1000 + 300).ok).toBe(true);
    expect(at(NOW / 1000 - 301)).toMatchObject({ ok: false, code: 'stale' });
    expect(at(NOW / 1000 + 301)).toMatchObject({ ok: false, code: 'stale' });
    expect(checkFreshness({ timestamp: '12.5', nonce: 'abcdefgh' }, NOW)).toMatchObject({
      code: 'bad_timestamp',
    });
    expect(checkFreshness({ timestamp: TS, nonce: 'short' }, NOW)).toMatchObject({
      code: 'bad_nonce',
    });
    expect(checkFreshness({ timestamp: TS, nonce: 'has space x' }, NOW).ok).toBe(false);
  });

  it('checks the HMAC over "<timestamp>.<nonce>.<body>"', () => {
    const signature = sign('s3cret', TS, 'nonce-123', body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const manual = createHmac('sha256', 's3cret').update(`${TS}.nonce-123.{"a":1}`).digest('hex');
    expect(signature).toBe(`sha256=${manual}`);
    const h = { timestamp: TS, nonce: 'nonce-123', signature };
    expect(checkAuth('hmac', 's3cret', h, body)).toEqual({ ok: true, signature });
    expect(checkAuth('hmac', 's3cret', { ...h, signature: signature.toUpperCase() }, body).ok).toBe(
      true,
    );
    expect(checkAuth('hmac', 'other', h, body).ok).toBe(false);
    expect(checkAuth('hmac', 's3cret', h, Buffer.from('{"a":2}')).ok).toBe(false);
    expect(checkAuth('hmac', 's3cret', { ...h, timestamp: String(NOW / 1000 + 1) }, body).ok).toBe(
      false,
    );
    // The same signature under a fresh nonce is not valid.
    expect(checkAuth('hmac', 's3cret', { ...h, nonce: 'nonce-456' }, body)).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
    // The old form, "<timestamp>.<body>", is refused.
    const old = createHmac('sha256', 's3cret').update(`${TS}.{"a":1}`).digest('hex');
    expect(checkAuth('hmac', 's3cret', { ...h, signature: `sha256=${old}` }, body).ok).toBe(false);
    expect(checkAuth('hmac', 's3cret', { timestamp: TS, nonce: 'nonce-123' }, body).ok).toBe(false);
  });

  it('checks a bearer secret', () => {
    expect(checkAuth('bearer', 'tok', { authorization: 'Bearer tok' }, body).ok).toBe(true);
    expect(checkAuth('bearer', 'tok', { authorization: 'Bearer to' }, body).ok).toBe(false);
    expect(checkAuth('bearer', 'tok', { authorization: 'tok' }, body).ok).toBe(false);
    expect(checkAuth('bearer', 'tok', {}, body).ok).toBe(false);
  });
});

describe('webhook prompt', () => {
  it('wraps the payload as escaped untrusted content', () => {
    const text = renderPrompt('Hook {{hook}}: {{payload}}', 'ci', { x: '</untrusted_payload><b>' });
    expect(text.startsWith('Hook ci: <untrusted_payload hook="ci">')).toBe(true);
    expect(text).toContain('"&lt;/untrusted_payload&gt;&lt;b&gt;"');
    expect(text.match(/<\/untrusted_payload>/g)).toHaveLength(1);
  });

  it('appends the payload when the template has no placeholder, and ignores $ patterns', () => {
    const text = renderPrompt('Check this', 'ci', { v: "$$ $` $' $1" });
    expect(text).toMatch(/^Check this\n\n<untrusted_payload/);
    expect(text).toContain('"$$ $` $\' $1"');
    expect(renderPrompt('{{payload}}', 'ci', "$'")).toContain('\n"$\'"\n');
  });
});
