import { chmod, mkdir } from 'node:fs/promises';
import {
  Browsers,
  downloadMediaMessage,
  makeWASocket,
  useMultiFileAuthState,
  type AuthenticationState,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import type { WaConnect, WaSocket } from './types.js';

/**
 * Opens (creating with mode 0700) the auth state folder: Baileys' multi-file store of the
 * device's keys. It is the credential of the paired account; it survives restarts.
 */
export async function openAuthState(
  dir: string,
): Promise<{ state: AuthenticationState; saveCreds: () => Promise<void> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return useMultiFileAuthState(dir);
}

/**
 * The production socket factory: a Baileys socket over the stored auth state, wrapped to the
 * adapter's `WaSocket`. Credential updates are saved as they come.
 */
export function baileysConnect(authDir: string, log: Logger): WaConnect {
  const libLog = log.child({ lib: 'baileys' }, { level: 'warn' });
  return async (): Promise<WaSocket> => {
    const { state, saveCreds } = await openAuthState(authDir);
    const sock = makeWASocket({
      auth: state,
      logger: libLog as never,
      browser: Browsers.ubuntu('Clawpod'),
      markOnlineOnConnect: false,
      syncFullHistory: false,
    });
    sock.ev.on('creds.update', () => {
      saveCreds().catch((err: Error) =>
        log.error({ err: err.message }, 'WhatsApp credentials not saved'),
      );
    });
    return {
      ev: sock.ev,
      get user() {
        return sock.user;
      },
      sendMessage: (jid, content, options) => sock.sendMessage(jid, content, options),
      sendPresenceUpdate: (type, jid) => sock.sendPresenceUpdate(type, jid),
      requestPairingCode: (phone) => sock.requestPairingCode(phone),
      downloadMedia: (msg) =>
        downloadMediaMessage(
          msg,
          'buffer',
          {},
          {
            logger: libLog as never,
            reuploadRequest: sock.updateMediaMessage,
          },
        ),
      end: (error) => sock.end(error),
      logout: () => sock.logout(),
    };
  };
}

/** A pairing QR as scannable text blocks (for the terminal and the web page). */
export async function renderQr(qr: string): Promise<string> {
  const name = 'qrcode-terminal';
  const mod = (await import(name)) as {
    default: { generate(text: string, opts: { small: boolean }, cb: (out: string) => void): void };
  };
  return new Promise((resolve) => mod.default.generate(qr, { small: true }, resolve));
}

/** Prints a pairing QR in the terminal (stderr). */
export async function printQr(qr: string): Promise<void> {
  process.stderr.write(`${await renderQr(qr)}\n`);
}
