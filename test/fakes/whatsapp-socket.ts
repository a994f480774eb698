import type { AnyMessageContent, BaileysEventMap, WAMessage } from '@whiskeysockets/baileys';
import type {
  WaConnect,
  WaEventName,
  WaListener,
  WaSocket,
} from '../../src/channels/whatsapp/types.js';

export const BOT_JID = '4915100000001@s.whatsapp.net';

type AnyListener = (arg: unknown) => void;

/** Message ids are unique across sockets, as WhatsApp's are. */
let sentCount = 0;

/**
 * A fake of the Baileys socket surface the adapter uses (events in, sendMessage out), in
 * Baileys' own types. `open()`/`close(code)` drive `connection.update`; sends are recorded and,
 * like WhatsApp, echoed back as `fromMe` upserts.
 */
export class FakeWaSocket implements WaSocket {
  private readonly listeners = new Map<WaEventName, Set<AnyListener>>();
  readonly sent: { jid: string; content: AnyMessageContent }[] = [];
  readonly presence: { type: string; jid?: string }[] = [];
  readonly pairingRequests: string[] = [];
  /** Media bytes by message id, returned by downloadMedia. */
  media = new Map<string, Buffer>();
  user: { id: string } | undefined = { id: '4915100000001:7@s.whatsapp.net' };
  ended = false;
  echo = true;

  readonly ev = {
    on: <E extends WaEventName>(event: E, listener: WaListener<E>) => {
      const set = this.listeners.get(event) ?? new Set();
      set.add(listener as AnyListener);
      this.listeners.set(event, set);
    },
    off: <E extends WaEventName>(event: E, listener: WaListener<E>) => {
      this.listeners.get(event)?.delete(listener as AnyListener);
    },
  };

  listenerCount(event: WaEventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  emit<E extends WaEventName>(event: E, arg: BaileysEventMap[E]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(arg);
  }

  open(): void {
    this.emit('connection.update', { connection: 'open' });
  }

  qr(code = 'QR-DATA'): void {
    this.emit('connection.update', { connection: 'connecting', qr: code });
  }

  close(statusCode: number): void {
    const error = Object.assign(new Error(`closed ${statusCode}`), { output: { statusCode } });
    this.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error, date: new Date() },
    });
  }

  /** Delivers one message as WhatsApp would (type notify). */
  push(msg: Partial<WAMessage> & { key: WAMessage['key'] }): WAMessage {
    const full = { messageTimestamp: Math.floor(Date.now() / 1000), ...msg } as WAMessage;
    this.emit('messages.upsert', { messages: [full], type: 'notify' });
    return full;
  }

  async sendMessage(jid: string, content: AnyMessageContent): Promise<WAMessage> {
    this.sent.push({ jid, content });
    const key = { remoteJid: jid, id: `BOT${++sentCount}`, fromMe: true };
    const msg = {
      key,
      message: 'text' in content ? { conversation: content.text } : { conversation: '' },
    } as WAMessage;
    if (this.echo)
      setImmediate(() => this.emit('messages.upsert', { messages: [msg], type: 'notify' }));
    return msg;
  }

  async sendPresenceUpdate(type: string, jid?: string): Promise<void> {
    this.presence.push({ type, jid });
  }

  async requestPairingCode(phone: string): Promise<string> {
    this.pairingRequests.push(phone);
    return 'ABCD1234';
  }

  async downloadMedia(msg: WAMessage): Promise<Buffer> {
    const data = this.media.get(msg.key.id ?? '');
    if (!data) throw new Error('no media');
    return data;
  }

  end(): void {
    this.ended = true;
  }

  async logout(): Promise<void> {
    this.close(401);
  }
}

/** A connect factory handing out fake sockets that open on the next tick (unless `autoOpen` is off). */
export function fakeConnect(opts: { autoOpen?: boolean } = {}): {
  connect: WaConnect;
  sockets: FakeWaSocket[];
  latest: () => FakeWaSocket;
  /** Media bytes by message id, shared by every socket handed out. */
  media: Map<string, Buffer>;
} {
  const sockets: FakeWaSocket[] = [];
  const media = new Map<string, Buffer>();
  return {
    sockets,
    media,
    latest: () => sockets.at(-1)!,
    connect: async () => {
      const s = new FakeWaSocket();
      s.media = media;
      sockets.push(s);
      if (opts.autoOpen !== false) setImmediate(() => s.open());
      return s;
    },
  };
}
