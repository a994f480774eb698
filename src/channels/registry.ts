import type { Channel } from './channel.js';

/** The connected channels of a running daemon, looked up by chat id. */
export class ChannelSet {
  constructor(private readonly channels: Channel[]) {}

  forChat(chatId: string): Channel | undefined {
    return this.channels.find((c) => c.owns(chatId));
  }

  all(): readonly Channel[] {
    return this.channels;
  }
}
