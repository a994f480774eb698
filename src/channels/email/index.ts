import { join } from 'node:path';
import { resolveSecret } from '../../config/load.js';
import { registerChannel } from '../registry.js';

const envName = (ref: string) => ref.slice('env:'.length);

/**
 * Registers the email channel: enabled by `channels.email` in config.yaml whose secret references
 * resolve; otherwise skipped with the reason. imapflow, mailparser and nodemailer load only then.
 */
registerChannel({
  name: 'email',
  create: async ({ config, log }) => {
    const block = config.file.channels.email;
    if (!block) return { skip: 'not configured (no channels.email in config.yaml)' };
    const env = config.env;
    let oauth2;
    if (block.oauth2) {
      const o = block.oauth2;
      const clientSecret = resolveSecret(o.clientSecret, env);
      const refreshToken = resolveSecret(o.refreshToken, env);
      if (!clientSecret) return { skip: `${envName(o.clientSecret)} is not set` };
      if (!refreshToken) return { skip: `${envName(o.refreshToken)} is not set` };
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
        return { skip: 'channels.email.imap needs password (env:NAME) or oauth2' };
      imapPassword = resolveSecret(block.imap.password, env);
      if (!imapPassword) return { skip: `${envName(block.imap.password)} is not set` };
    }
    let smtpAuth;
    if (oauth2) smtpAuth = { kind: 'oauth2' as const, ...oauth2 };
    else if (block.smtp.password) {
      const pass = resolveSecret(block.smtp.password, env);
      if (!pass) return { skip: `${envName(block.smtp.password)} is not set` };
      smtpAuth = { kind: 'password' as const, user: block.smtp.user ?? block.imap.user, pass };
    }
    const { EmailChannel } = await import('./adapter.js');
    return new EmailChannel(
      {
        imap: { ...block.imap, password: imapPassword },
        smtp: {
          host: block.smtp.host,
          port: block.smtp.port,
          secure: block.smtp.secure,
          auth: smtpAuth,
        },
        oauth2,
        from: block.from,
        mailbox: block.mailbox,
        stateFile: join(config.paths.home, 'channels', 'email', 'state.json'),
        reconnectDelayMs: block.reconnectDelayMs,
      },
      log.child({ channel: 'email' }),
    );
  },
});
