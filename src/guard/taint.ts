/**
 * Taint: what untrusted content a run has read. A tainted run's side effects always ask, even
 * where a rule would allow them, and the approval says why. Kept in memory for the live runs
 * (the guard checks it on every action) and written to the run row for the record.
 */
import type { StoredMessage } from '../store/messages.js';
import type { SenderRole } from '../conversation/senders.js';

/** Most reasons kept per run (the first ones say enough). */
const MAX_REASONS = 5;
/** Most runs remembered; the oldest are forgotten first (their turns are long over). */
const MAX_RUNS = 10_000;

export class TaintLedger {
  private readonly runs = new Map<string, string[]>();

  /** `persist` writes a run's reasons to its row (store.runs.setTaint). */
  constructor(private readonly persist: (runId: string, reasons: readonly string[]) => void) {}

  /** Adds reasons to a run; returns the run's reasons now. */
  add(runId: string, reasons: readonly string[]): readonly string[] {
    const have = this.runs.get(runId) ?? [];
    const fresh = reasons.filter((r) => !have.includes(r));
    if (!fresh.length) return have;
    const next = [...have, ...fresh].slice(0, MAX_REASONS);
    this.runs.delete(runId); // re-insert: newest last
    this.runs.set(runId, next);
    if (this.runs.size > MAX_RUNS) this.runs.delete(this.runs.keys().next().value!);
    this.persist(runId, next);
    return next;
  }

  /** The reasons a run is tainted (empty: it is not). */
  of(runId: string | null | undefined): readonly string[] {
    return (runId && this.runs.get(runId)) || [];
  }

  forget(runId: string): void {
    this.runs.delete(runId);
  }
}

/**
 * Why a turn built from these messages is tainted: anything not from the owner — mail,
 * webhook payloads, other members' and external senders' messages (and the files they sent,
 * which arrive in those messages).
 */
export function taintOfMessages(
  messages: readonly Pick<StoredMessage, 'sender'>[],
  roleOf: (sender: string) => SenderRole,
): string[] {
  const reasons: string[] = [];
  for (const m of messages) {
    const role = roleOf(m.sender);
    if (role === 'owner') continue;
    const why = m.sender.startsWith('mail:')
      ? `this turn read an email from ${m.sender.slice('mail:'.length)}`
      : m.sender.startsWith('webhook:')
        ? `this turn read a webhook payload (${m.sender.slice('webhook:'.length)})`
        : `this turn read a message from ${m.sender} (${role}), and any file it carried`;
    if (!reasons.includes(why)) reasons.push(why);
    if (reasons.length >= MAX_REASONS) break;
  }
  return reasons;
}
