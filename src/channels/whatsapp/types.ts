import type {
  AnyMessageContent,
  BaileysEventMap,
  MiscMessageGenerationOptions,
  WAMessage,
  WAPresence,
} from '@whiskeysockets/baileys';

/** The three socket events the adapter listens to. */
export type WaEventName = 'messages.upsert' | 'connection.update' | 'creds.update';

export type WaListener<E extends WaEventName> = (arg: BaileysEventMap[E]) => void;

/**
 * The part of a Baileys socket the adapter uses, in Baileys' own types. Production fills it from
 * `makeWASocket` (socket.ts); tests fill it with a fake (Baileys' real socket verifies the server
 * key, so it cannot be faked whole).
 */
export interface WaSocket {
  readonly ev: {
    on<E extends WaEventName>(event: E, listener: WaListener<E>): void;
    off<E extends WaEventName>(event: E, listener: WaListener<E>): void;
  };
  /** The paired account (`<number>:<device>@s.whatsapp.net`); absent before pairing. */
  readonly user?: { id: string; lid?: string } | undefined;
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: MiscMessageGenerationOptions,
  ): Promise<WAMessage | undefined>;
  sendPresenceUpdate(type: WAPresence, jid?: string): Promise<void>;
  /** Asks WhatsApp for an 8-character code to enter on the phone (instead of the QR). */
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** The media of a message as bytes (Baileys' downloadMediaMessage in production). */
  downloadMedia(msg: WAMessage): Promise<Buffer>;
  /** Closes the socket; it emits `connection.update` close afterwards. */
  end(error?: Error): void;
  logout(): Promise<void>;
}

/** Opens a fresh socket (auth state re-read from disk each time). */
export type WaConnect = () => Promise<WaSocket>;

/** Lifecycle of the adapter's connection. */
export type WaConnectionState =
  | { name: 'stopped' }
  | { name: 'connecting'; attempt: number }
  | { name: 'pairing'; qr: string | null; pairingCode: string | null }
  | { name: 'connected'; jid: string }
  | { name: 'waiting'; attempt: number; retryAt: number; reason: string }
  | { name: 'logged-out'; reason: string };
