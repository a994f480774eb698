import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
// zod/mini, like everything in the runner bundle (see runner-protocol.ts).
import * as z from 'zod/mini';
import type { TurnTokens } from './prices.js';

/**
 * Codex's `turn.completed` usage counts the whole thread so far, not the turn: a resumed thread
 * reports the earlier turns again. The ledger remembers the last totals per thread in a small
 * JSON file (in CODEX_HOME, beside the threads themselves) and hands out the difference, so
 * each run row gets only what its turn consumed.
 */
export interface CodexTotals {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
}

/** Threads remembered; older ones are dropped (a resumed forgotten thread counts its totals). */
const KEEP = 64;

const count = z.number().check(z.nonnegative());
const storedSchema = z.record(
  z.string(),
  z.object({ input: count, cachedInput: count, cacheWrite: count, output: count, at: z.number() }),
);
type Stored = z.infer<typeof storedSchema>;

export class ThreadUsageLedger {
  constructor(private readonly file: string) {}

  /**
   * The tokens of the turn that brought `threadId` to `totals`, and records `totals`. A total
   * below the recorded one (Codex started counting anew) makes `totals` the turn's own usage.
   */
  async turnDelta(threadId: string, totals: CodexTotals): Promise<TurnTokens> {
    const stored = await this.read();
    const prev = stored[threadId];
    const keys = ['input', 'cachedInput', 'cacheWrite', 'output'] as const;
    const reset = !prev || keys.some((k) => totals[k] < prev[k]);
    const delta: TurnTokens = {
      input: totals.input - (reset ? 0 : prev.input),
      cachedInput: totals.cachedInput - (reset ? 0 : prev.cachedInput),
      cacheWrite: totals.cacheWrite - (reset ? 0 : prev.cacheWrite),
      output: totals.output - (reset ? 0 : prev.output),
    };
    stored[threadId] = { ...totals, at: Date.now() };
    const kept = Object.entries(stored)
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, KEEP);
    await this.write(Object.fromEntries(kept));
    return delta;
  }

  private async read(): Promise<Stored> {
    try {
      const parsed = storedSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? parsed.data : {};
    } catch {
      return {}; // absent or damaged: every thread counts from zero
    }
  }

  private async write(data: Stored): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(data));
    await rename(tmp, this.file);
  }
}

/** The harness usage fields for one turn: `inputTokens` is the uncached input only. */
export function usageFields(t: TurnTokens): {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
} {
  return {
    inputTokens: Math.max(0, t.input - t.cachedInput - t.cacheWrite),
    outputTokens: t.output,
    cacheReadTokens: t.cachedInput,
    cacheWriteTokens: t.cacheWrite,
  };
}
