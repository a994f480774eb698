import { describe, expect, it } from 'vitest';
import { imapFailure, smtpFailure } from './errors.js';
import { toDeliveryError } from './outbound.js';

describe('SMTP failures', () => {
  it('keeps the server words: refusals are final, logins and 4xx wait a minute, the rest retries', () => {
    const refused = toDeliveryError(
      smtpFailure({ responseCode: 550, response: '550 5.1.1 no such user' }, []),
    );
    expect(refused.opts).toEqual({ permanent: true });
    expect(refused.message).toBe('SMTP refused: 550 5.1.1 no such user');
    expect(
      toDeliveryError(smtpFailure({ responseCode: 451, response: '451 try later' }, [])).opts,
    ).toEqual({
      retryAfterMs: 60_000,
    });
    // A wrong password is not the mail's fault: never dead-lettered at once.
    const auth = toDeliveryError(
      smtpFailure(
        { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Error: authentication failed' },
        [],
      ),
    );
    expect(auth.opts).toEqual({ retryAfterMs: 60_000 });
    expect(auth.message).toContain('535 5.7.8 Error: authentication failed');
    const tls = toDeliveryError(
      smtpFailure({ code: 'ESOCKET', message: 'self-signed certificate' }, []),
    );
    expect(tls.opts).toEqual({});
    expect(tls.message).toContain('self-signed certificate');
    expect(tls.message).toContain('channels.email.tls.ca');
    const net = toDeliveryError(
      smtpFailure({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, []),
    );
    expect(net.message).toContain('ECONNREFUSED');
  });

  it('masks secrets the server echoes', () => {
    const f = smtpFailure({ responseCode: 535, response: '535 auth failed for secret-pass' }, [
      'secret-pass',
    ]);
    expect(f.reason).not.toContain('secret-pass');
    expect(f.reason).toContain('535 auth failed for ***');
  });
});

describe('IMAP failures', () => {
  it("reads imapflow's authenticationFailed, response code and text instead of 'Command failed'", () => {
    const f = imapFailure(
      Object.assign(new Error('Command failed'), {
        authenticationFailed: true,
        serverResponseCode: 'AUTHENTICATIONFAILED',
        responseText: 'Authentication failed.',
        executedCommand: '2 LOGIN bot "hunter22"',
      }),
      ['hunter22'],
    );
    expect(f).toMatchObject({
      kind: 'auth',
      reason: 'login refused: [AUTHENTICATIONFAILED] Authentication failed.',
    });
    expect(JSON.stringify(f)).not.toContain('hunter22');
  });

  it('names the TLS problem and its fix', () => {
    const f = imapFailure(
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      [],
    );
    expect(f.kind).toBe('tls');
    expect(f.fix).toContain('channels.email.tls.ca');
  });
});
