/**
 * IMAP and SMTP failures in the words of the server, with what the owner can do about them.
 * imapflow and nodemailer keep the server's answer in fields beside a generic message
 * ("Command failed"); these read them. Secrets are masked: a server may echo what it was sent.
 */

/** What kind of failure: decides retrying (`auth` stops after a few attempts) and health. */
export type MailFailureKind = 'auth' | 'tls' | 'network' | 'refused' | 'deferred' | 'other';

/** One failure: `reason` quotes the server (secrets masked); `fix` says what to change. */
export interface MailFailure {
  kind: MailFailureKind;
  reason: string;
  fix: string;
  /** SMTP reply code, when the server answered. */
  responseCode?: number;
}

interface LibError {
  message?: string;
  code?: string;
  /** imapflow: the server's text after the status (`Authentication failed.`). */
  responseText?: string;
  /** imapflow: the bracketed response code (`AUTHENTICATIONFAILED`). */
  serverResponseCode?: string;
  authenticationFailed?: boolean;
  /** nodemailer: the server's reply line (`535 5.7.8 Error: authentication failed: …`). */
  response?: string;
  responseCode?: number;
}

const TLS_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** Replaces every secret (of 4+ characters) in `text` with `***`. */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

function tlsFailure(e: LibError, where: string, message: string): MailFailure | null {
  const code = e.code ?? '';
  const text = `${code} ${message}`;
  if (
    TLS_UNTRUSTED.has(code) ||
    /self[- ]signed|unable to (verify|get) .*(certificate|issuer)/i.test(text)
  )
    return {
      kind: 'tls',
      reason: message,
      fix: `the server's certificate is not trusted: set channels.email.tls.ca to the PEM file of the CA that signed it`,
    };
  if (code === 'CERT_HAS_EXPIRED' || /certificate has expired/i.test(text))
    return { kind: 'tls', reason: message, fix: `the server's certificate has expired: renew it` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altnames|Hostname\/IP does not match/i.test(text))
    return {
      kind: 'tls',
      reason: message,
      fix: `use the host name on the server's certificate in ${where}.host`,
    };
  if (/wrong version number|ssl3_get_record|packet length too long/i.test(text))
    return {
      kind: 'tls',
      reason: message,
      fix: `${where}.port does not speak TLS from the first byte: set ${where}.secure: false (STARTTLS) or use the TLS port`,
    };
  return null;
}

function networkFailure(e: LibError, where: string, message: string): MailFailure | null {
  const code = e.code ?? '';
  if (!NETWORK.has(code) && !/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timed? ?out/i.test(message))
    return null;
  return {
    kind: 'network',
    reason: message,
    fix: `check ${where}.host and ${where}.port, and that this machine can reach the server`,
  };
}

/** An imapflow error (connect, login, select, fetch) as a failure with the server's words. */
export function imapFailure(err: unknown, secrets: readonly (string | undefined)[]): MailFailure {
  const e = (err ?? {}) as LibError;
  const mask = (s: string) => maskSecrets(s, secrets);
  const serverWords = [e.serverResponseCode && `[${e.serverResponseCode}]`, e.responseText]
    .filter(Boolean)
    .join(' ');
  if (
    e.authenticationFailed ||
    /^(AUTHENTICATIONFAILED|AUTHORIZATIONFAILED)$/.test(e.serverResponseCode ?? '')
  )
    return {
      kind: 'auth',
      reason: mask(`login refused: ${serverWords || e.message || 'authentication failed'}`),
      fix: 'check channels.email.imap.user and its password variable (providers such as Gmail and Outlook need an app password), or the oauth2 block; then restart clawpod',
    };
  const message = mask(
    serverWords ? `${e.message ?? 'IMAP error'}: ${serverWords}` : (e.message ?? String(err)),
  );
  return (
    tlsFailure(e, 'channels.email.imap', message) ??
    networkFailure(e, 'channels.email.imap', message) ?? {
      kind: 'other',
      reason: message,
      fix: 'see the server reason; check channels.email.imap and channels.email.mailbox',
    }
  );
}

/** A nodemailer error (connect, login, send) as a failure with the server's words. */
export function smtpFailure(err: unknown, secrets: readonly (string | undefined)[]): MailFailure {
  const e = (err ?? {}) as LibError;
  const mask = (s: string) => maskSecrets(s, secrets);
  const words = mask((e.response ?? e.message ?? String(err)).trim());
  const code = e.responseCode;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || code === 535 || code === 534 || code === 530)
    return {
      kind: 'auth',
      reason: `login refused: ${words}`,
      fix: 'check channels.email.smtp.user and its password variable (smtp.user defaults to imap.user), or the oauth2 block',
      ...(code ? { responseCode: code } : {}),
    };
  if (code && code >= 500)
    return {
      kind: 'refused',
      reason: `refused: ${words}`,
      fix: 'the server will not take this mail (address, size or content): see its reason',
      responseCode: code,
    };
  if (code && code >= 400)
    return {
      kind: 'deferred',
      reason: `deferred: ${words}`,
      fix: 'a temporary refusal: it is retried',
      responseCode: code,
    };
  return (
    tlsFailure(e, 'channels.email.smtp', words) ??
    networkFailure(e, 'channels.email.smtp', words) ?? {
      kind: 'other',
      reason: words,
      fix: 'see the server reason; check channels.email.smtp',
    }
  );
}
