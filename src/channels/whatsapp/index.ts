import { join } from 'node:path';
import { registerChannel } from '../registry.js';
import type { WaConnect } from './types.js';

/** Values for the optional keys of `channels.whatsapp` (documented in config/schema.ts). */
const DEFAULTS = { perChatIntervalMs: 2000, globalPerMinute: 20 } as const;

/**
 * Test seam: when `connect` is set, the registered factory opens this instead of a Baileys
 * socket (the real one verifies WhatsApp's server key and cannot be faked). Never set in
 * production code.
 */
export const whatsappTestSeam: { connect?: WaConnect; reconnectBaseMs?: number } = {};

/**
 * Registers the WhatsApp channel: enabled by `channels.whatsapp: { enabled: true }`. No secret
 * in config: the paired device's auth state under `$CLAWPOD_HOME/channels/whatsapp/` is the
 * credential.
 */
registerChannel({
  name: 'whatsapp',
  create: async ({ config, log }) => {
    const block = config.file.channels.whatsapp;
    if (!block) return { skip: 'not configured (no channels.whatsapp in config.yaml)' };
    if (!block.enabled) return { skip: 'disabled (channels.whatsapp.enabled: false)' };
    const authDir = join(config.paths.home, 'channels', 'whatsapp');
    // Baileys loads only when WhatsApp is configured.
    const { WhatsAppChannel } = await import('./adapter.js');
    let connect = whatsappTestSeam.connect;
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
        reconnectBaseMs: whatsappTestSeam.reconnectBaseMs,
        connectWaitMs: whatsappTestSeam.connect ? 1000 : undefined,
        onQr,
        renderQr,
      },
      log,
    );
  },
});
