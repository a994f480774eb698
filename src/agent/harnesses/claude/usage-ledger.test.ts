import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageLedger, type Totals } from './usage-ledger.js';

const t = (input: number, cost: number): Totals => ({
  inputTokens: input,
  outputTokens: input / 10,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: cost,
});

describe('UsageLedger', () => {
  it('charges each turn its share of cumulative totals, across processes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    const a = new UsageLedger(dir);
    expect(a.turn('s1', t(100, 0.01))).toMatchObject({ inputTokens: 100, costUsd: 0.01 });
    expect(a.turn('s1', t(250, 0.025))).toMatchObject({
      inputTokens: 150,
      outputTokens: 15,
      costUsd: 0.015,
    });
    // A new process resuming s1 starts from the saved totals.
    const b = new UsageLedger(dir);
    expect(b.turn('s1', t(300, 0.03))).toMatchObject({ inputTokens: 50, costUsd: 0.005 });
    expect(b.turn('s2', t(40, 0.004))).toMatchObject({ inputTokens: 40, costUsd: 0.004 });
  });

  it('takes totals whole when they went down (a cleared session)', () => {
    const l = new UsageLedger(mkdtempSync(join(tmpdir(), 'ledger-')));
    l.turn('s', t(500, 0.05));
    expect(l.turn('s', t(80, 0.008))).toMatchObject({ inputTokens: 80, costUsd: 0.008 });
  });

  it('still works in memory when the folder cannot be written', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'a-file');
    writeFileSync(file, '');
    const l = new UsageLedger(join(file, 'ledger')); // ENOTDIR on every write
    l.turn('s', t(100, 0.01));
    expect(l.turn('s', t(150, 0.015))).toMatchObject({ inputTokens: 50 });
  });
});
