import type { z } from 'zod';
import type { ChannelCheck, ChannelCheckContext } from '../channel.js';
import type { emailSettings } from './index.js';
import { probeEmail } from './probe.js';
import { resolveEmailSettings } from './settings.js';

/** `clawpod doctor`: logs in to IMAP (and opens the mailbox) and to SMTP; sends nothing. */
export async function checkEmail({
  config,
  settings: block,
  timeoutMs,
}: ChannelCheckContext<z.output<typeof emailSettings>>): Promise<ChannelCheck[]> {
  const s = resolveEmailSettings(config, block);
  if (!s) return [];
  if ('skip' in s) return [{ level: 'fail', title: `email: ${s.skip}`, fix: s.fix }];
  const found = await probeEmail(s, timeoutMs);
  const at = (h: { host: string; port: number }) => `${h.host}:${h.port}`;
  return [
    found.imap
      ? {
          level: 'fail',
          title: `email: IMAP ${at(s.imap)} ${found.imap.reason}`,
          fix: found.imap.fix,
        }
      : { level: 'ok', title: `email: IMAP ${at(s.imap)} login and ${s.mailbox} ok` },
    found.smtp
      ? {
          level: 'fail',
          title: `email: SMTP ${at(s.smtp)} ${found.smtp.reason}`,
          fix: found.smtp.fix,
        }
      : {
          level: 'ok',
          title: `email: SMTP ${at(s.smtp)} ${s.smtp.auth ? 'login' : 'connection'} ok`,
        },
  ];
}
