import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { renderDoctor, runDoctor } from './doctor.js';
import { installService } from './service.js';
import { runNonInteractive, type SetupFlags } from '../setup/flags.js';
import { SetupCancelled } from '../setup/prompter.js';
import { openSetup, runWizard } from '../setup/wizard.js';
import { UsageError } from '../usage-error.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The flags of one secret: the value itself, or the variable of this environment holding it. */
function secretOptions(cmd: Command, flag: string, what: string): Command {
  return cmd
    .option(`--${flag} <value>`, what)
    .option(`--${flag}-env <NAME>`, `${what}, read from variable NAME of this environment`);
}

/**
 * `clawpod setup`: the interactive wizard at a terminal; with `--yes` the same from flags
 * (for scripts and CI), nothing asked.
 */
export function registerSetup(program: Command): void {
  const cmd = program
    .command('setup')
    .description(
      'set up clawpod: sandbox, model key, name and time zone, chat channels (live-checked) and your admin chat',
    )
    .option('-y, --yes', 'ask nothing: take everything from the flags below')
    .option('--name <name>', "the assistant's name (the trigger is @name)")
    .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Berlin')
    .addOption(
      new Option('--harness <harness>', 'default agent harness').choices(['claude', 'codex']),
    );
  secretOptions(cmd, 'anthropic-key', 'Anthropic API key');
  secretOptions(cmd, 'claude-token', 'Claude subscription token (from `claude setup-token`)');
  secretOptions(cmd, 'openai-key', 'OpenAI API key (codex)');
  secretOptions(cmd, 'telegram-token', 'Telegram bot token');
  cmd
    .option('--telegram-api-root <url>', 'a local Bot API server instead of api.telegram.org')
    .option(
      '--telegram-owner <user id>',
      'your Telegram user id: owner, and your DM bound to main',
    );
  secretOptions(cmd, 'slack-bot-token', 'Slack bot token (xoxb-…)');
  secretOptions(cmd, 'slack-app-token', 'Slack app-level token for Socket Mode (xapp-…)');
  cmd
    .option('--slack-api-url <url>', 'Slack Web API root (default https://slack.com/api/)')
    .option('--slack-owner <member id>', 'your Slack member id: owner, and your DM bound to main');
  secretOptions(cmd, 'discord-token', 'Discord bot token');
  cmd
    .option('--discord-api-base <url>', 'Discord REST root (default https://discord.com/api)')
    .option('--discord-owner <user id>', 'your Discord user id: owner, and your DM bound to main')
    .option('--email-imap <host[:port]>', 'IMAP server (993: TLS)')
    .option('--email-smtp <host[:port]>', 'SMTP server (465: TLS, 587: STARTTLS)')
    .option('--email-user <user>', 'mailbox user (IMAP and SMTP)');
  secretOptions(cmd, 'email-password', 'mailbox password');
  cmd
    .option('--email-from <address>', "the assistant's address (default: the user)")
    .option('--email-owner <address>', 'your own address: owner, and its chat bound to main')
    .option('--whatsapp', 'enable WhatsApp (pair on the first `clawpod start`)')
    .option('--whatsapp-phone <digits>', "pair by code for the assistant's number")
    .option(
      '--whatsapp-owner <digits>',
      'your own WhatsApp number: owner, and its chat bound to main',
    )
    .option('--owner-id <id>', 'add a sender id to owner.ids (repeatable), e.g. tg:4242', collect)
    .option('--bind-main <chat>', 'bind a chat to main (repeatable), e.g. tg:4242', collect)
    .option('--no-check', 'skip the live login of each channel')
    .option('--check-timeout <seconds>', 'longest wait for each live check', '15')
    .action(async (opts: SetupFlags & { yes?: boolean; checkTimeout: string }) => {
      const timeoutMs = Number(opts.checkTimeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new UsageError('--check-timeout: a positive number of seconds');
      if (opts.yes) {
        const ctx = openSetup(process.env, timeoutMs);
        const lines = await runNonInteractive(ctx, opts, process.env);
        console.log(lines.join('\n'));
        const results = await runDoctor(process.env, { channelTimeoutMs: timeoutMs });
        console.log(`\n${renderDoctor(results)}`);
        return;
      }
      if (!process.stdin.isTTY)
        throw new UsageError(
          'setup asks questions at a terminal; from a script use `clawpod setup --yes` with flags (see clawpod setup --help)',
        );
      try {
        process.exitCode = await runWizard({
          env: process.env,
          endpoints: {
            telegramApiRoot: opts.telegramApiRoot,
            slackApiUrl: opts.slackApiUrl,
            discordApiBase: opts.discordApiBase,
          },
          checkTimeoutMs: timeoutMs,
          deps: {
            doctor: (env) => runDoctor(env, { channelTimeoutMs: timeoutMs }),
            renderDoctor,
            installService:
              process.platform === 'linux' || process.platform === 'darwin'
                ? () => installService(loadConfig())
                : undefined,
          },
        });
      } catch (err) {
        if (err instanceof SetupCancelled) {
          console.error(err.message);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}
