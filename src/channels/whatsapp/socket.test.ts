import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuthState } from './socket.js';

describe('WhatsApp auth state (Baileys useMultiFileAuthState)', () => {
  it('is written in a 0700 folder and reloaded after a restart', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'wa-auth-')), 'channels', 'whatsapp');
    const first = await openAuthState(dir);
    first.state.creds.me = { id: '4915100000001:7@s.whatsapp.net', name: 'Bot' };
    await first.saveCreds();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toContain('creds.json');
    const again = await openAuthState(dir);
    expect(again.state.creds.me).toEqual({ id: '4915100000001:7@s.whatsapp.net', name: 'Bot' });
    expect(Buffer.from(again.state.creds.noiseKey.private)).toEqual(
      Buffer.from(first.state.creds.noiseKey.private),
    );
  });
});
