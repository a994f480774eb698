import { describe, expect, it } from 'vitest';
import { openDb } from '../store/db.js';
import { NonceStore } from './nonce-store.js';
import { renderPrompt } from './prompt.js';
import { checkAuth, checkFreshness, sign, WINDOW_MS } from './verify.js';

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

  it('checks the HMAC over "<timestamp>.<body>"', () => {
    const signature = sign('s3cret', TS, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    const h = { timestamp: TS, signature };
    expect(checkAuth('hmac', 's3cret', h, body).ok).toBe(true);
    expect(checkAuth('hmac', 'other', h, body).ok).toBe(false);
    expect(checkAuth('hmac', 's3cret', h, Buffer.from('{"a":2}')).ok).toBe(false);
    expect(checkAuth('hmac', 's3cret', { ...h, timestamp: String(NOW / 1000 + 1) }, body).ok).toBe(
      false,
    );
    expect(checkAuth('hmac', 's3cret', { timestamp: TS }, body).ok).toBe(false);
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

describe('nonce store', () => {
  it('refuses a nonce seen inside the window, per hook, and prunes old ones', () => {
    const db = openDb(':memory:');
    const nonces = new NonceStore(db, WINDOW_MS);
    expect(nonces.remember('a', 'n1', NOW)).toBe('ok');
    expect(nonces.remember('a', 'n1', NOW + 1000)).toBe('replay');
    expect(nonces.remember('b', 'n1', NOW)).toBe('ok');
    nonces.forget('b', 'n1');
    expect(nonces.remember('b', 'n1', NOW)).toBe('ok');
    expect(nonces.remember('a', 'n2', NOW + 2 * WINDOW_MS + 1)).toBe('ok');
    expect(db.prepare('SELECT COUNT(*) FROM webhook_nonces').pluck().get()).toBe(1);
    db.close();
  });
});
