import { describe, expect, it } from 'vitest';
import { Store } from './store.js';

const NOW = 1_800_000_000_000;
/** The freshness window of a webhook call (webhooks/verify.ts WINDOW_MS). */
const WINDOW_MS = 5 * 60_000;

describe('nonce store', () => {
  it('refuses a nonce seen inside the window, per hook, and prunes old ones', () => {
    const store = Store.open(':memory:');
    const nonces = store.webhookNonces;
    const at = (hook: string, nonce: string) => ({ hook, nonce });
    expect(nonces.remember(at('a', 'n1'), NOW, WINDOW_MS)).toBe('ok');
    expect(nonces.remember(at('a', 'n1'), NOW + 1000, WINDOW_MS)).toBe('nonce_seen');
    expect(nonces.remember(at('b', 'n1'), NOW, WINDOW_MS)).toBe('ok');
    nonces.forget(at('b', 'n1'));
    expect(nonces.remember(at('b', 'n1'), NOW, WINDOW_MS)).toBe('ok');
    expect(nonces.remember(at('a', 'n2'), NOW + 2 * WINDOW_MS + 1, WINDOW_MS)).toBe('ok');
    expect(store.db.prepare('SELECT COUNT(*) FROM webhook_nonces').pluck().get()).toBe(1);
    store.close();
  });

  it('refuses a signature seen before under any hook or nonce, and forgets it with the call', () => {
    const store = Store.open(':memory:');
    const nonces = store.webhookNonces;
    const sig = `sha256=${'ab'.repeat(32)}`;
    expect(nonces.remember({ hook: 'a', nonce: 'n1', signature: sig }, NOW, WINDOW_MS)).toBe('ok');
    expect(nonces.remember({ hook: 'b', nonce: 'n1', signature: sig }, NOW, WINDOW_MS)).toBe(
      'signature_seen',
    );
    expect(nonces.remember({ hook: 'a', nonce: 'n2', signature: sig }, NOW, WINDOW_MS)).toBe(
      'signature_seen',
    );
    // A refused call leaves nothing behind: its nonce is still free.
    expect(nonces.remember({ hook: 'b', nonce: 'n1' }, NOW, WINDOW_MS)).toBe('ok');
    nonces.forget({ hook: 'a', nonce: 'n1', signature: sig });
    expect(nonces.remember({ hook: 'a', nonce: 'n1', signature: sig }, NOW, WINDOW_MS)).toBe('ok');
    // Pruned with the nonces after twice the window.
    expect(
      nonces.remember(
        { hook: 'c', nonce: 'n3', signature: sig },
        NOW + 2 * WINDOW_MS + 1,
        WINDOW_MS,
      ),
    ).toBe('ok');
    store.close();
  });
});
