/**
 * What this process has sent, by key, for a bounded while: an outbox idempotency key → the
 * platform's message id (a retried piece answers with the id instead of posting again), or a
 * platform message id → true (the echo of our own send is recognised). Past `max` entries the
 * oldest is forgotten first; setting a key again makes it the newest. In memory only: after a
 * restart, a channel that cannot look sends up may send a piece once more (at-least-once).
 */
export class SentKeys<V = string> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max = 1000) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  remember(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
