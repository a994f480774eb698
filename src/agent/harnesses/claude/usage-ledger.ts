import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';

/** Token and cost figures in the runner protocol's shape. */
export interface Totals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

const KEYS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'costUsd',
] as const satisfies ReadonlyArray<keyof Totals>;

const ZERO: Totals = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
};

/**
 * The session's running totals as a `result` message reports them. `modelUsage` covers every
 * model call (main loop, subagents, compaction) and, like `total_cost_usd`, is cumulative over
 * the Claude Code process and continues from the transcript's saved totals on resume.
 */
export function cumulativeTotals(r: SDKResultMessage): Totals {
  const models = Object.values(r.modelUsage ?? {});
  if (models.length === 0) {
    return {
      inputTokens: r.usage.input_tokens ?? 0,
      outputTokens: r.usage.output_tokens ?? 0,
      cacheReadTokens: r.usage.cache_read_input_tokens ?? 0,
      cacheWriteTokens: r.usage.cache_creation_input_tokens ?? 0,
      costUsd: r.total_cost_usd ?? 0,
    };
  }
  const t = { ...ZERO };
  for (const m of models) {
    t.inputTokens += m.inputTokens;
    t.outputTokens += m.outputTokens;
    t.cacheReadTokens += m.cacheReadInputTokens;
    t.cacheWriteTokens += m.cacheCreationInputTokens;
  }
  t.costUsd = r.total_cost_usd ?? models.reduce((s, m) => s + m.costUSD, 0);
  return t;
}

/**
 * Turns Claude Code's cumulative session totals into per-turn figures for the run ledger.
 * The last totals seen for each session are kept in `<dir>/<session>.json` (the group's
 * session folder), so a resumed session's first turn is not charged for the turns before it.
 * A total that went down (a /clear, or a transcript without saved totals) is taken whole.
 */
export class UsageLedger {
  private readonly seen = new Map<string, Totals>();

  constructor(private readonly dir: string) {}

  /** The turn's share of `now` (the session's totals after it); remembers `now`. */
  turn(sessionId: string, now: Totals): Totals {
    const before = this.seen.get(sessionId) ?? this.load(sessionId);
    const reset = KEYS.some((k) => now[k] < before[k]);
    const delta = { ...ZERO };
    for (const k of KEYS) delta[k] = reset ? now[k] : now[k] - before[k];
    delta.costUsd = Math.max(0, Math.round(delta.costUsd * 1e9) / 1e9);
    this.seen.set(sessionId, now);
    this.save(sessionId, now);
    return delta;
  }

  private file(sessionId: string): string {
    return join(this.dir, `${sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }

  private load(sessionId: string): Totals {
    try {
      const raw = JSON.parse(readFileSync(this.file(sessionId), 'utf8')) as Partial<Totals>;
      const t = { ...ZERO };
      for (const k of KEYS) if (typeof raw[k] === 'number' && raw[k] >= 0) t[k] = raw[k];
      return t;
    } catch {
      return { ...ZERO };
    }
  }

  /** Best effort: a lost file only makes the next resumed turn count the session's history. */
  private save(sessionId: string, t: Totals): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${this.file(sessionId)}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(t));
      renameSync(tmp, this.file(sessionId));
    } catch {
      // the session folder is not writable: per-turn figures stay right within this process
    }
  }
}
