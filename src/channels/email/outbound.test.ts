import { describe, expect, it } from 'vitest';
import { toDeliveryError } from './outbound.js';

describe('toDeliveryError', () => {
  it('fails 5xx for good, retries 4xx after a minute and network errors by the outbox', () => {
    expect(toDeliveryError({ responseCode: 550, message: 'no such user' }).opts).toEqual({
      permanent: true,
    });
    expect(toDeliveryError({ responseCode: 451 }).opts).toEqual({ retryAfterMs: 60_000 });
    const net = toDeliveryError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    expect(net.opts).toEqual({});
    expect(net.message).toBe('SMTP failed: ECONNREFUSED');
  });

  it('never quotes the server response (it may echo credentials)', () => {
    const e = toDeliveryError({ responseCode: 535, message: '535 auth failed for secret-pass' });
    expect(e.message).not.toContain('secret-pass');
  });
});
