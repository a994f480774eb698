import { createHmac, timingSafeEqual } from 'node:crypto';

/** How a hook authenticates its caller. */
export type HookAuth = 'hmac' | 'bearer';

/** Requests whose timestamp is further than this from now are refused as stale. */
export const WINDOW_MS = 300_000;

const NONCE = /^[A-Za-z0-9._:-]{8,200}$/;

/** The outcome of checking a request's headers and body; a refusal carries its HTTP status. */
export type Verdict =
  | { ok: true; nonce: string; timestamp: number }
  | { ok: false; status: 400 | 401; code: string; message: string };

/** The request headers that matter, lower-cased names. */
export interface AuthHeaders {
  signature?: string;
  authorization?: string;
  timestamp?: string;
  nonce?: string;
}

/** Constant-time equality of two strings (false on different lengths). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * `sha256=<hex>` of HMAC-SHA256(secret, `<timestamp>.<nonce>.<raw body>`). The nonce is signed
 * so that a captured call cannot be sent again under a fresh nonce.
 */
export function sign(secret: string, timestamp: string, nonce: string, body: Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.${nonce}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** Checks the timestamp and nonce headers alone (before the body is read). */
export function checkFreshness(h: AuthHeaders, now: number): Verdict {
  if (!h.timestamp || !/^\d{1,12}$/.test(h.timestamp)) {
    return {
      ok: false,
      status: 401,
      code: 'bad_timestamp',
      message: 'X-Clawpod-Timestamp must be unix seconds',
    };
  }
  const timestamp = Number(h.timestamp);
  if (Math.abs(now - timestamp * 1000) > WINDOW_MS) {
    return {
      ok: false,
      status: 401,
      code: 'stale',
      message: 'X-Clawpod-Timestamp is more than 300 s from the server clock',
    };
  }
  if (!h.nonce || !NONCE.test(h.nonce)) {
    return {
      ok: false,
      status: 401,
      code: 'bad_nonce',
      message: 'X-Clawpod-Nonce must be 8-200 characters of A-Z a-z 0-9 . _ : -',
    };
  }
  return { ok: true, nonce: h.nonce, timestamp };
}

/**
 * Verifies the signature (hmac) or bearer secret; freshness must already have passed. A good
 * HMAC also returns the signature (`sha256=<hex>`), which the replay store keeps.
 */
export function checkAuth(
  auth: HookAuth,
  secret: string,
  h: AuthHeaders,
  body: Buffer,
): { ok: true; signature?: string } | { ok: false; status: 401; code: string; message: string } {
  if (auth === 'bearer') {
    const presented = h.authorization?.startsWith('Bearer ') ? h.authorization.slice(7).trim() : '';
    return presented && safeEqual(presented, secret)
      ? { ok: true }
      : { ok: false, status: 401, code: 'unauthorized', message: 'missing or wrong bearer secret' };
  }
  const expected = sign(secret, h.timestamp ?? '', h.nonce ?? '', body);
  return h.signature && safeEqual(h.signature.trim().toLowerCase(), expected)
    ? { ok: true, signature: expected }
    : {
        ok: false,
        status: 401,
        code: 'bad_signature',
        message:
          'X-Clawpod-Signature does not match sha256=HMAC(secret, "<timestamp>.<nonce>.<body>")',
      };
}
