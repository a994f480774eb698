import type { ChannelFactory } from '../channels/channel.js';
import { builtinChannels } from '../channels/index.js';
import { resolveSecret, type Config } from '../config/load.js';
import type { CheckResult } from './doctor-checks.js';

/** How long one live check may take before it counts as unreachable. */
const DEFAULT_TIMEOUT_MS = 15_000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Live checks of every configured channel, as the owner would need them: each channel's own
 * check (a login with the configured secrets: IMAP and SMTP, Telegram getMe, Slack auth.test,
 * Discord /users/@me; or the stored pairing for WhatsApp). A block whose secrets are missing
 * fails with the variable to set. Each check is bounded by `timeoutMs`; failures quote the
 * platform and say what to fix; no secret appears in any line.
 */
export async function checkChannels(
  config: Config,
  opts: { timeoutMs?: number; channels?: readonly ChannelFactory[] } = {},
): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const blocks = config.file.channels as Record<string, unknown>;
  const checks: Array<Promise<CheckResult[]>> = [];
  for (const factory of opts.channels ?? builtinChannels) {
    const block = blocks[factory.name];
    if (block === undefined || !factory.check) continue;
    const settings = factory.settings.safeParse(block);
    if (!settings.success) continue; // the config loader already refused it
    checks.push(
      factory
        .check({ config, settings: settings.data, timeoutMs })
        .catch((err: unknown): CheckResult[] => [
          {
            level: 'fail',
            title: `${factory.name}: check failed: ${message(err)}`,
            fix: 'see the message',
          },
        ]),
    );
  }
  return maskSecrets((await Promise.all(checks)).flat(), config);
}

/** Every secret a channel block references, masked wherever a library's message quotes it. */
function maskSecrets(results: CheckResult[], config: Config): CheckResult[] {
  const refs = JSON.stringify(config.file.channels).match(/"env:[A-Za-z_][A-Za-z0-9_]*"/g) ?? [];
  const secrets = refs
    .map((r) => resolveSecret(r.slice(1, -1), config.env))
    .filter((v): v is string => Boolean(v && v.length >= 4));
  const hide = (t: string) => secrets.reduce((acc, v) => acc.split(v).join('***'), t);
  return results.map((r) => ({
    ...r,
    title: hide(r.title),
    ...(r.fix ? { fix: hide(r.fix) } : {}),
  }));
}
