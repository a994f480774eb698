import { join } from 'node:path';
import { z } from 'zod';
import type { ChannelFactory } from '../channel.js';
import type { WaConnect } from './types.js';

/** `channels.whatsapp` in config.yaml: no secret; the paired auth state is the credential. */
export const whatsappSettings = z
  .strictObject({
    enabled: z.boolean(),
    /** Pair by code for this number (digits, country code first) instead of the QR. */
    phoneNumber: z
      .string()
      .regex(/^\d{7,15}$/, 'digits only, country code first')
      .optional(),
    /** The bot uses the owner's own number: texts prefixed `<assistant>: `, told apart by it. */
    selfChat: z.boolean().optional(),
    /** Least ms between two sends to one chat; absent: 2000 (spacing avoids bans). */
    perChatIntervalMs: z.number().int().min(0).optional(),
    /** Most sends per minute over all chats; absent: 20 (0 = no cap; keep it low). */
    globalPerMinute: z.number().int().min(0).optional(),
  })
  .optional();

/** Values for the optional keys of `channels.whatsapp`. */
const DEFAULTS = { perChatIntervalMs: 2000, globalPerMinute: 20 } as const;

/** What a WhatsApp factory may be built with instead of the production defaults. */
export interface WhatsAppFactoryOptions {
  /**
   * Opens a socket instead of Baileys' (whose real socket verifies WhatsApp's server key and
   * cannot be faked): tests build a factory with a fake socket and hand it to the daemon.
   */
  connect?: WaConnect;
  /** First reconnect delay (default 2 s). */
  reconnectBaseMs?: number;
  /** How long `connect` waits for the socket to open (default 5 s). */
  connectWaitMs?: number;
}

/**
 * A WhatsApp channel factory: enabled by `channels.whatsapp: { enabled: true }`. No secret in
 * config: the paired device's auth state under `$CLAWPOD_HOME/channels/whatsapp/` is the
 * credential. Baileys loads only when WhatsApp is configured (and no socket is given).
 */
export function whatsappFactory(
  opts: WhatsAppFactoryOptions = {},
): ChannelFactory<'whatsapp', typeof whatsappSettings> {
  return {
    name: 'whatsapp',
    settings: whatsappSettings,
    create: async ({ config, settings: block, log }) => {
      if (!block) return { skip: 'not configured (no channels.whatsapp in config.yaml)' };
      if (!block.enabled) return { skip: 'disabled (channels.whatsapp.enabled: false)' };
      const authDir = join(config.paths.home, 'channels', 'whatsapp');
      const { WhatsAppChannel } = await import('./adapter.js');
      let connect = opts.connect;
      let onQr: ((qr: string) => void) | undefined;
      let renderQr: ((qr: string) => Promise<string>) | undefined;
      if (!connect) {
        const socket = await import('./socket.js');
        connect = socket.baileysConnect(authDir, log);
        onQr = (qr) => void socket.printQr(qr).catch(() => undefined);
        renderQr = socket.renderQr;
      }
      return new WhatsAppChannel(
        {
          connect,
          authDir,
          assistantName: config.file.assistant.name,
          selfChat: block.selfChat ?? false,
          phoneNumber: block.phoneNumber ?? null,
          perChatIntervalMs: block.perChatIntervalMs ?? DEFAULTS.perChatIntervalMs,
          globalPerMinute: block.globalPerMinute ?? DEFAULTS.globalPerMinute,
          attachmentMaxBytes: config.file.attachments.maxBytes,
          reconnectBaseMs: opts.reconnectBaseMs,
          connectWaitMs: opts.connectWaitMs,
          onQr,
          renderQr,
        },
        log,
      );
    },
    check: async (ctx) => {
      const { checkWhatsApp } = await import('./doctor.js');
      return checkWhatsApp(ctx);
    },
  };
}

/** The production WhatsApp factory (Baileys). */
export const whatsappChannel = whatsappFactory();
