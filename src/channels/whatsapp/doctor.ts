import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ChannelCheck, ChannelCheckContext } from '../channel.js';
import type { whatsappSettings } from './index.js';

/** `clawpod doctor`: whether a paired account is stored (no network: pairing is the login). */
export async function checkWhatsApp({
  config,
  settings: block,
}: ChannelCheckContext<z.output<typeof whatsappSettings>>): Promise<ChannelCheck[]> {
  if (!block?.enabled) return [];
  const credsFile = join(config.paths.home, 'channels', 'whatsapp', 'creds.json');
  let id: string | undefined;
  try {
    const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { me?: { id?: string } };
    id = creds.me?.id;
  } catch {
    id = undefined;
  }
  if (id) return [{ level: 'ok', title: `whatsapp: paired as ${id.split(':')[0]!.split('@')[0]}` }];
  return [
    {
      level: 'fail',
      title: 'whatsapp: not paired (no paired account in channels/whatsapp/creds.json)',
      fix: block.phoneNumber
        ? '`clawpod start` and enter the pairing code it prints on the phone (WhatsApp → Linked devices → Link with phone number)'
        : '`clawpod start` and scan the QR code (terminal or web chat page) with WhatsApp → Linked devices',
    },
  ];
}
