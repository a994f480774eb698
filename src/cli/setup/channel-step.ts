import type { CheckResult } from '../doctor-checks.js';
import {
  channelInfo,
  checkPlan,
  emailBlock,
  envNameOf,
  type ChannelName,
  type ChannelPlan,
} from './channel-plans.js';
import { bindOwner, storeSecrets, type SetupContext } from './context.js';
import {
  emailOwner,
  openDiscordDm,
  openSlackDm,
  waitForTelegramOwner,
  whatsappOwner,
  type OwnerLink,
} from './owner-link.js';
import type { Prompter } from './prompter.js';

/** API roots other than the platforms' own (a local Bot API server; fakes in tests). */
export interface Endpoints {
  telegramApiRoot?: string;
  slackApiUrl?: string;
  discordApiBase?: string;
}

const required = (what: string) => (v: string) => (v ? undefined : `${what} is needed`);

/**
 * Asks for a secret, offering to keep the stored one, or the one typed at the last try (Enter).
 * The result holds the value to use (a kept value of the last try included).
 */
async function askSecret(
  ui: Prompter,
  ctx: SetupContext,
  label: string,
  envName: string,
  validate?: (v: string) => string | undefined,
  previous: Record<string, string> = {},
): Promise<Record<string, string>> {
  const kept = previous[envName] ?? (ctx.env[envName] ? '' : undefined);
  const v = await ui.secret({
    message: `${label}${kept !== undefined ? ` (Enter keeps the ${kept ? 'one given before' : 'stored one'})` : ''}:`,
    validate: (s) =>
      kept !== undefined && !s ? undefined : !s ? `${label} is needed` : validate?.(s),
  });
  if (v) return { [envName]: v };
  return kept ? { [envName]: kept } : {};
}

const hostPort = (s: string, port: number) => {
  const m = /^(.+?)(?::(\d+))?$/.exec(s.trim())!;
  const p = m[2] ? Number(m[2]) : port;
  return { host: m[1]!, port: p };
};

/** The questions of one channel; null when the owner skips it. */
async function askPlan(
  ui: Prompter,
  ctx: SetupContext,
  name: ChannelName,
  ep: Endpoints,
  last: ChannelPlan | null,
): Promise<ChannelPlan | null> {
  const prev = last?.secrets ?? {};
  // What the last try gave, else what config.yaml has.
  const at = (path: string[]): unknown => {
    let v: unknown = last?.block;
    for (const k of path)
      v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return v ?? ctx.doc.get(['channels', name, ...path]);
  };
  const cur = (k: string) => at([k]);
  switch (name) {
    case 'telegram': {
      const env = envNameOf(cur('token'), 'TELEGRAM_BOT_TOKEN');
      const secrets = await askSecret(
        ui,
        ctx,
        'Bot token from @BotFather',
        env,
        (v) =>
          /^\d+:[\w-]{20,}$/.test(v)
            ? undefined
            : 'a bot token looks like 123456789:AA… (digits, colon, letters)',
        prev,
      );
      const apiRoot = ep.telegramApiRoot ?? (cur('apiRoot') as string | null | undefined);
      return {
        channel: name,
        block: { token: `env:${env}`, ...(apiRoot ? { apiRoot } : {}) },
        secrets,
      };
    }
    case 'slack': {
      const bot = envNameOf(cur('botToken'), 'SLACK_BOT_TOKEN');
      const app = envNameOf(cur('appToken'), 'SLACK_APP_TOKEN');
      const secrets = {
        ...(await askSecret(
          ui,
          ctx,
          'Bot User OAuth Token (xoxb-…)',
          bot,
          (v) => (v.startsWith('xoxb-') ? undefined : 'the bot token starts with xoxb-'),
          prev,
        )),
        ...(await askSecret(
          ui,
          ctx,
          'App-level token for Socket Mode (xapp-…)',
          app,
          (v) => (v.startsWith('xapp-') ? undefined : 'the app-level token starts with xapp-'),
          prev,
        )),
      };
      const apiUrl = ep.slackApiUrl ?? (cur('apiUrl') as string | null | undefined);
      return {
        channel: name,
        block: { botToken: `env:${bot}`, appToken: `env:${app}`, ...(apiUrl ? { apiUrl } : {}) },
        secrets,
      };
    }
    case 'discord': {
      const env = envNameOf(cur('token'), 'DISCORD_BOT_TOKEN');
      const secrets = await askSecret(ui, ctx, 'Bot token', env, undefined, prev);
      const apiBase = ep.discordApiBase ?? (cur('apiBase') as string | null | undefined);
      return {
        channel: name,
        block: { token: `env:${env}`, ...(apiBase ? { apiBase } : {}) },
        secrets,
      };
    }
    case 'email': {
      const imapIn = await ui.text({
        message: 'IMAP server (host or host:port; 993 = TLS)',
        initial: joinHostPort(at(['imap', 'host']), at(['imap', 'port'])),
        validate: required('the IMAP server'),
      });
      const imap = hostPort(imapIn, 993);
      const user = await ui.text({
        message: 'Mailbox user name',
        initial: (at(['imap', 'user']) as string | undefined) ?? '',
        validate: required('the user name'),
      });
      const imapPw = envNameOf(at(['imap', 'password']), 'EMAIL_IMAP_PASSWORD');
      const pw = await askSecret(
        ui,
        ctx,
        'Mailbox password (or app password)',
        imapPw,
        undefined,
        prev,
      );
      const smtpIn = await ui.text({
        message: 'SMTP server (host or host:port; 465 = TLS, 587 = STARTTLS)',
        initial:
          joinHostPort(at(['smtp', 'host']), at(['smtp', 'port'])) ||
          imap.host.replace(/^imap\./, 'smtp.'),
        validate: required('the SMTP server'),
      });
      const smtp = hostPort(smtpIn, 465);
      const smtpPw = envNameOf(at(['smtp', 'password']), 'EMAIL_SMTP_PASSWORD');
      const from = await ui.text({
        message: "The assistant's address (From:)",
        initial: (cur('from') as string) ?? (user.includes('@') ? user : ''),
        validate: (v) => (/\S+@\S+/.test(v) ? undefined : 'an address such as andy@example.com'),
      });
      const password = pw[imapPw] ?? ctx.env[imapPw] ?? '';
      return {
        channel: name,
        block: emailBlock({ imap, smtp, user, from, imapPw, smtpPw }),
        secrets: { ...pw, ...(password ? { [smtpPw]: password } : {}) },
      };
    }
    case 'whatsapp': {
      const how = await ui.select('Link the WhatsApp account with', [
        { value: 'qr', label: 'a QR code (shown by `clawpod start`)' },
        { value: 'code', label: 'a pairing code for a phone number' },
      ]);
      const phone =
        how === 'code'
          ? await ui.text({
              message: "The assistant's WhatsApp number (digits, country code first)",
              validate: (v) =>
                /^\d{7,15}$/.test(v) ? undefined : 'digits only, e.g. 4915112345678',
            })
          : undefined;
      return {
        channel: name,
        block: { enabled: true, ...(phone ? { phoneNumber: phone } : {}) },
        secrets: {},
      };
    }
  }
}

function joinHostPort(host: unknown, port: unknown): string {
  if (typeof host !== 'string' || !host) return '';
  return typeof port === 'number' ? `${host}:${port}` : host;
}

const failures = (rs: CheckResult[]) => rs.filter((r) => r.level === 'fail');

/**
 * One channel: where to get its settings, the questions, a live check (the platform's own
 * reason on failure, then try again or skip), the write (`.env` and config.yaml), and the
 * owner's chat bound to main. Returns whether the channel was added.
 */
export async function channelStep(
  ui: Prompter,
  ctx: SetupContext,
  name: ChannelName,
  ep: Endpoints,
): Promise<boolean> {
  const info = channelInfo[name];
  ui.note(info.howTo, `${info.label}: where to get the settings`);
  let plan: ChannelPlan | null = null;
  let results: CheckResult[];
  for (;;) {
    plan = await askPlan(ui, ctx, name, ep, plan);
    if (!plan) return false;
    ui.step(`checking ${info.label}…`);
    results = await checkPlan(ctx, plan);
    const failed = failures(results);
    if (!failed.length) {
      for (const r of results) ui.ok(r.title);
      break;
    }
    ui.error(failed.map((r) => `${r.title}${r.fix ? `\n  fix: ${r.fix}` : ''}`).join('\n'));
    const next = await ui.select('Then:', [
      { value: 'again', label: 'Enter the settings again' },
      { value: 'skip', label: `Skip ${info.label}` },
    ]);
    if (next === 'skip') return false;
  }
  storeSecrets(ctx, plan.secrets);
  ctx.doc.merge(['channels', name], plan.block);
  ctx.doc.save();
  ui.ok(
    `${info.label} saved in ${ctx.doc.file}${Object.keys(plan.secrets).length ? ` and ${ctx.paths.envFile}` : ''}`,
  );
  if (name === 'whatsapp')
    ui.info(
      plan.block.phoneNumber
        ? '`clawpod start` prints a pairing code: WhatsApp → Linked devices → Link with phone number'
        : '`clawpod start` shows a QR code: WhatsApp → Linked devices → Link a device',
    );
  await ownerStep(ui, ctx, plan, results);
  return true;
}

/** Finds the owner on the channel, then records them and binds their chat to main. */
async function ownerStep(
  ui: Prompter,
  ctx: SetupContext,
  plan: ChannelPlan,
  results: CheckResult[],
): Promise<void> {
  let link: OwnerLink | null;
  try {
    link = await findOwner(ui, ctx, plan, results);
  } catch (err) {
    ui.error(
      `${(err as Error).message}\nbind your chat later: clawpod chats list, then clawpod groups bind main <chat>`,
    );
    return;
  }
  if (!link) {
    ui.info('no owner chat bound; later: clawpod chats list, then clawpod groups bind main <chat>');
    return;
  }
  const r = await bindOwner(ctx, link);
  if (typeof r === 'object')
    ui.warn(
      `${link.chat} is bound to group ${r.boundTo}; to make it the owner's chat: clawpod groups unbind ${r.boundTo} ${link.chat} && clawpod groups bind main ${link.chat}`,
    );
  else
    ui.ok(
      `${link.chat} ${r === 'bound' ? 'is now bound' : 'was already bound'} to main; ${link.ownerId} is the owner (owner.ids)`,
    );
}

const secretOf = (ctx: SetupContext, plan: ChannelPlan, key: string) => {
  const ref = plan.block[key];
  const name = typeof ref === 'string' ? ref.slice(4) : '';
  return plan.secrets[name] ?? ctx.env[name] ?? '';
};

async function findOwner(
  ui: Prompter,
  ctx: SetupContext,
  plan: ChannelPlan,
  results: CheckResult[],
): Promise<OwnerLink | null> {
  const ms = ctx.checkTimeoutMs;
  switch (plan.channel) {
    case 'telegram':
      return telegramOwner(ui, ctx, plan, results);
    case 'slack': {
      const id = await ui.text({
        message: 'Your Slack member ID (profile → ⋯ → Copy member ID; empty: skip)',
        placeholder: 'U0123ABCD',
        validate: (v) =>
          !v || /^[UW][A-Z0-9]{2,}$/.test(v) ? undefined : 'a member ID looks like U0123ABCD',
      });
      return id
        ? openSlackDm(
            secretOf(ctx, plan, 'botToken'),
            plan.block.apiUrl as string | undefined,
            id,
            ms,
          )
        : null;
    }
    case 'discord': {
      const id = await ui.text({
        message:
          'Your Discord user ID (Settings → Advanced → Developer Mode, then right-click your name → Copy User ID; empty: skip)',
        validate: (v) => (!v || /^\d{15,22}$/.test(v) ? undefined : 'a user ID is 15 to 22 digits'),
      });
      return id
        ? openDiscordDm(
            secretOf(ctx, plan, 'token'),
            plan.block.apiBase as string | undefined,
            id,
            ms,
          )
        : null;
    }
    case 'email': {
      const a = await ui.text({
        message: 'Your own mail address (mail from it goes to main; empty: skip)',
        validate: (v) =>
          !v || /^[^\s@]+@[^\s@]+$/.test(v) ? undefined : 'an address such as you@example.com',
      });
      return a ? emailOwner(a) : null;
    }
    case 'whatsapp': {
      const p = await ui.text({
        message: 'Your own WhatsApp number (digits, country code first; empty: skip)',
        validate: (v) =>
          !v || /^\d{7,15}$/.test(v) ? undefined : 'digits only, e.g. 4915112345678',
      });
      return p ? whatsappOwner(p) : null;
    }
  }
}

/**
 * Telegram: the owner writes to the bot and the wizard reads that message (getUpdates), or
 * types their numeric user id. Waiting can be cut short from the menu shown meanwhile.
 */
async function telegramOwner(
  ui: Prompter,
  ctx: SetupContext,
  plan: ChannelPlan,
  results: CheckResult[],
): Promise<OwnerLink | null> {
  const bot =
    /bot (@\S+)/.exec(results.find((r) => r.level === 'ok')?.title ?? '')?.[1] ?? 'the bot';
  const token = secretOf(ctx, plan, 'token');
  const apiRoot = plan.block.apiRoot as string | undefined;
  ui.info(
    `Now send any message to ${bot} from your own Telegram account: that chat becomes your admin chat (main).`,
  );
  const capture = new AbortController();
  const menu = new AbortController();
  const waiting = waitForTelegramOwner(token, apiRoot, capture.signal).then(
    (link) => {
      menu.abort();
      return link;
    },
    (err: unknown) => {
      menu.abort();
      throw err;
    },
  );
  const choice = await ui.select(
    `Waiting for your message to ${bot}…`,
    [
      { value: 'id' as const, label: 'Type my user id instead' },
      { value: 'skip' as const, label: 'Skip: bind my chat later' },
    ],
    undefined,
    menu.signal,
  );
  if (choice !== undefined) {
    capture.abort();
    await waiting.catch(() => null);
    if (choice === 'skip') return null;
    const id = await ui.text({
      message: 'Your Telegram user id (e.g. from @userinfobot)',
      validate: (v) => (/^\d{1,20}$/.test(v) ? undefined : 'digits only'),
    });
    return { ownerId: `tg:${id}`, chat: `tg:${id}` };
  }
  let link: OwnerLink | null;
  try {
    link = await waiting;
  } catch (err) {
    // 409: the daemon (or another poller, or a webhook) holds this bot's updates.
    ui.warn(
      `${(err as Error).message}\n(is clawpod already running with this bot? then type your id)`,
    );
    const id = await ui.text({
      message: 'Your Telegram user id (e.g. from @userinfobot; empty: skip)',
      validate: (v) => (!v || /^\d{1,20}$/.test(v) ? undefined : 'digits only'),
    });
    return id ? { ownerId: `tg:${id}`, chat: `tg:${id}` } : null;
  }
  if (!link) return null;
  const yes = await ui.confirm(
    `Message from ${link.name || link.ownerId} (${link.ownerId}): make this chat your admin chat (main)?`,
  );
  return yes ? link : null;
}
