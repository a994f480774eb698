import { stmt, type Db } from './db.js';

/**
 * Rows of `webhook_nonces` under this pseudo hook hold signatures (hex), not nonces. Hook names
 * are `[a-z0-9][a-z0-9_-]*`, so it can never collide with a real hook.
 */
const SIGNATURES = '#signature';

/** One authenticated call, as far as replay protection is concerned. */
export interface HookCall {
  hook: string;
  nonce: string;
  /** `sha256=<hex>` of an hmac call; absent for bearer calls. */
  signature?: string;
}

/** Whether a call is new, or which part of it was seen before inside the window. */
export type Seen = 'ok' | 'nonce_seen' | 'signature_seen';

const hex = (signature: string) => signature.replace(/^sha256=/, '');

/**
 * Replay protection for webhook calls (the `webhook_nonces` table). Each (hook, nonce) and each
 * HMAC signature is kept for twice the freshness window, so a replay is refused even across a
 * daemon restart; older rows are pruned on the next call (their timestamps are stale by then
 * anyway). Signatures are kept across hooks: two hooks sharing a secret cannot be fed the same
 * call.
 */
export class WebhookNonceStore {
  constructor(private readonly db: Db) {}

  /**
   * Records the call: `ok` when both nonce and signature are new; nothing is kept otherwise.
   * `windowMs` is the freshness window of the call's timestamp.
   */
  remember(call: HookCall, now: number, windowMs: number): Seen {
    return this.db.transaction((): Seen => {
      stmt(this.db, 'DELETE FROM webhook_nonces WHERE seen_at < ?').run(now - windowMs * 2);
      if (this.has(call.hook, call.nonce)) return 'nonce_seen';
      if (call.signature !== undefined && this.has(SIGNATURES, hex(call.signature))) {
        return 'signature_seen';
      }
      const insert = stmt(
        this.db,
        'INSERT INTO webhook_nonces (hook, nonce, seen_at) VALUES (?, ?, ?)',
      );
      insert.run(call.hook, call.nonce, now);
      if (call.signature !== undefined) insert.run(SIGNATURES, hex(call.signature), now);
      return 'ok';
    })();
  }

  /** Forgets a call (authenticated but not carried out): the sender may retry it as it was. */
  forget(call: HookCall): void {
    const del = stmt(this.db, 'DELETE FROM webhook_nonces WHERE hook = ? AND nonce = ?');
    del.run(call.hook, call.nonce);
    if (call.signature !== undefined) del.run(SIGNATURES, hex(call.signature));
  }

  private has(hook: string, nonce: string): boolean {
    return (
      stmt(this.db, 'SELECT 1 FROM webhook_nonces WHERE hook = ? AND nonce = ?').get(
        hook,
        nonce,
      ) !== undefined
    );
  }
}
