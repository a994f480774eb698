import { EventEmitter } from 'node:events';
import type { StoredMessage } from '../store/messages.js';
import type { ApprovalRecord } from '../store/approvals.js';
import type { RunRecord } from '../store/runs.js';

/**
 * A run's live progress (ephemeral: announced, never stored): a piece of the reply being
 * written, a tool step that started, or a log line of the agent.
 */
export type RunProgress = { runId: string; group: string; chat: string; at: number } & (
  | { kind: 'partial'; text: string }
  | { kind: 'tool'; name: string; summary: string }
  | { kind: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string }
);

/** What the daemon announces as it happens (SSE stream, metrics, tests). */
export interface BusEvents {
  message: [StoredMessage];
  run: [RunRecord];
  progress: [RunProgress];
  /** An approval was asked, or decided (once). */
  approval: [ApprovalRecord];
  'outbox-dead': [{ idemKey: string; chatId: string; error: string }];
}

/** A typed in-process event emitter. Listeners must not throw. */
export class EventBus extends EventEmitter<BusEvents> {
  constructor() {
    super();
    this.setMaxListeners(1000);
  }
}
