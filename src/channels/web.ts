import type { Channel, ChannelHealth } from './channel.js';
import { registerChannel } from './registry.js';

/**
 * The built-in web channel: chats `web:<name>`, fed by `POST /api/messages`, the dashboard chat
 * page and `clawpod chat`. Delivery is the outbox recording the reply in the message log, which
 * the page and CLI read live over SSE; so `send` only confirms.
 */
export function createWebChannel(): Channel {
  const health: ChannelHealth = { connected: false, lastError: null, lastEventAt: null };
  return {
    name: 'web',
    limits: { maxMessageLength: 100_000 },
    owns: (chat) => chat.startsWith('web:'),
    async connect() {
      health.connected = true;
    },
    async disconnect() {
      health.connected = false;
    },
    async send(_chat, _text, { idemKey }) {
      health.lastEventAt = Date.now();
      return { platformId: `web-${idemKey}` };
    },
    health: () => ({ ...health }),
  };
}

registerChannel({
  name: 'web',
  create: ({ config }) =>
    config.file.channels.web?.enabled === false
      ? { skip: 'disabled in config' }
      : createWebChannel(),
});
