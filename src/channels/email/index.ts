import { registerChannel } from '../registry.js';
import { emailSettings } from './settings.js';

/**
 * Registers the email channel: enabled by `channels.email` in config.yaml whose secret references
 * resolve; otherwise skipped with the reason. imapflow, mailparser and nodemailer load only then.
 */
registerChannel({
  name: 'email',
  create: async ({ config, log, notifyOwner }) => {
    const settings = emailSettings(config);
    if (!settings) return { skip: 'not configured (no channels.email in config.yaml)' };
    if ('skip' in settings) return { skip: `${settings.skip}; fix: ${settings.fix}` };
    const { EmailChannel } = await import('./adapter.js');
    // `log` already carries `channel: email` (the daemon's child logger).
    return new EmailChannel({ ...settings, notifyOwner }, log);
  },
});
