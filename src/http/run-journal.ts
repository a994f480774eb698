import type { EventBus, RunProgress } from '../events/bus.js';

/** One step of a run as a live view saw it: a tool call or a log line. */
export type JournalEntry =
  | { at: number; kind: 'tool'; name: string; summary: string }
  | { at: number; kind: 'log'; level: string; msg: string };

/**
 * What recent runs did, step by step (tool calls, the agent's log lines), kept in memory from
 * the progress events for the run pages of the Control UI. Bounded: the latest `maxRuns` runs,
 * `maxEntries` steps each; lost at restart (the run row, its input and replies are durable).
 */
export class RunJournal {
  private readonly runs = new Map<string, JournalEntry[]>();
  private readonly listener = (p: RunProgress) => this.add(p);

  constructor(
    private readonly bus: EventBus,
    private readonly maxRuns = 200,
    private readonly maxEntries = 500,
  ) {
    bus.on('progress', this.listener);
  }

  /** The steps recorded for `runId`, oldest first (empty when unknown). */
  entries(runId: string): JournalEntry[] {
    return this.runs.get(runId) ?? [];
  }

  close(): void {
    this.bus.off('progress', this.listener);
  }

  private add(p: RunProgress): void {
    if (p.kind === 'partial') return;
    let list = this.runs.get(p.runId);
    if (!list) {
      list = [];
      this.runs.set(p.runId, list);
      // Maps iterate in insertion order: the first key is the oldest run.
      if (this.runs.size > this.maxRuns) this.runs.delete(this.runs.keys().next().value!);
    }
    if (list.length >= this.maxEntries) return;
    list.push(
      p.kind === 'tool'
        ? { at: p.at, kind: 'tool', name: p.name, summary: p.summary }
        : { at: p.at, kind: 'log', level: p.level, msg: p.msg },
    );
  }
}
