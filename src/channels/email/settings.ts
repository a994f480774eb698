import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { Config } from '../../config/load.js';
import { envName, resolveSecret } from '../../config/secret.js';
import type { EmailSettings } from './adapter.js';
import type { emailSettings } from './index.js';

/** Why the email channel cannot be built from config: the message and what to do. */
export interface EmailSettingsProblem {
  skip: string;
  fix: string;
}

/**
 * The email channel's settings from its `channels.email` block with secrets resolved and the CA
 * file read, or why not (a secret variable unset, an unreadable `tls.ca`). Null when not
 * configured.
 */
export function resolveEmailSettings(
  config: Config,
  block: z.output<typeof emailSettings>,
): EmailSettings | EmailSettingsProblem | null {
  if (!block) return null;
  const env = config.env;
  const envFile = config.paths.envFile;
  const unset = (ref: string, what: string): EmailSettingsProblem => ({
    skip: `${envName(ref)} (${what}) is not set`,
    fix: `add ${envName(ref)}=… to ${envFile} (chmod 600) or the environment`,
  });
  let oauth2;
  if (block.oauth2) {
    const o = block.oauth2;
    const clientSecret = resolveSecret(o.clientSecret, env);
    const refreshToken = resolveSecret(o.refreshToken, env);
    if (!clientSecret) return unset(o.clientSecret, 'channels.email.oauth2.clientSecret');
    if (!refreshToken) return unset(o.refreshToken, 'channels.email.oauth2.refreshToken');
    oauth2 = {
      user: o.user,
      clientId: o.clientId,
      clientSecret,
      refreshToken,
      tokenUrl: o.tokenUrl,
    };
  }
  let imapPassword: string | undefined;
  if (!oauth2) {
    if (!block.imap.password)
      return {
        skip: 'channels.email.imap needs password (env:NAME) or an oauth2 block',
        fix: `add password: env:EMAIL_IMAP_PASSWORD under channels.email.imap in ${config.paths.configFile}`,
      };
    imapPassword = resolveSecret(block.imap.password, env);
    if (!imapPassword) return unset(block.imap.password, 'channels.email.imap.password');
  }
  let smtpAuth;
  if (oauth2) smtpAuth = { kind: 'oauth2' as const, ...oauth2 };
  else if (block.smtp.password) {
    const pass = resolveSecret(block.smtp.password, env);
    if (!pass) return unset(block.smtp.password, 'channels.email.smtp.password');
    smtpAuth = { kind: 'password' as const, user: block.smtp.user ?? block.imap.user, pass };
  }
  let ca: string | undefined;
  if (block.tls?.ca) {
    const file = isAbsolute(block.tls.ca) ? block.tls.ca : resolve(config.paths.home, block.tls.ca);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (err) {
      return {
        skip: `channels.email.tls.ca: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        fix: `point channels.email.tls.ca in ${config.paths.configFile} at a readable PEM file (relative paths start at ${config.paths.home})`,
      };
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      return {
        skip: `channels.email.tls.ca: ${file} holds no PEM certificate`,
        fix: 'use the CA certificate in PEM form (a text file starting with -----BEGIN CERTIFICATE-----)',
      };
  }
  return {
    imap: { ...block.imap, password: imapPassword },
    smtp: {
      host: block.smtp.host,
      port: block.smtp.port,
      secure: block.smtp.secure,
      auth: smtpAuth,
      ...(ca ? { ca } : {}),
    },
    oauth2,
    ...(ca ? { ca } : {}),
    from: block.from,
    mailbox: block.mailbox,
    stateFile: join(config.paths.home, 'channels', 'email', 'state.json'),
    reconnectDelayMs: block.reconnectDelayMs,
  };
}
