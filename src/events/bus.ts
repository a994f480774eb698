import { EventEmitter } from 'node:events';
import type { StoredMessage } from '../store/messages.js';
import type { ApprovalRecord } from '../store/approvals.js';
import type { RunRecord } from '../store/runs.js';

/** What the daemon announces as it happens (SSE stream, metrics, tests). */
export interface BusEvents {
  message: [StoredMessage];
  run: [RunRecord];
  /** An approval was asked, or decided (once). */
  approval: [ApprovalRecord];
  'outbox-dead': [{ idemKey: string; chatJid: string; error: string }];
}

/** A typed in-process event emitter. Listeners must not throw. */
export class EventBus extends EventEmitter<BusEvents> {
  constructor() {
    super();
    this.setMaxListeners(1000);
  }
}
