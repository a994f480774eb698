import type { Channel, ChannelFactory } from './channel.js';

const factories = new Map<string, ChannelFactory>();

/** Adapters call this once at import; `channels/index.ts` holds one import line per adapter. */
export function registerChannel(factory: ChannelFactory): void {
  factories.set(factory.name, factory);
}

export function channelFactories(): ChannelFactory[] {
  return [...factories.values()];
}

/** The connected channels of a running daemon, looked up by chat id. */
export class ChannelSet {
  constructor(private readonly channels: Channel[]) {}

  forChat(chatJid: string): Channel | undefined {
    return this.channels.find((c) => c.owns(chatJid));
  }

  all(): readonly Channel[] {
    return this.channels;
  }
}
