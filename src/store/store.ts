import { openDb, type Db } from './db.js';
import { ChatStore } from './chats.js';
import { DeadLetterStore } from './dead-letters.js';
import { GroupStore } from './groups.js';
import { MessageStore } from './messages.js';
import { OutboxStore } from './outbox.js';
import { AgentSessionStore } from './agent-sessions.js';
import { ChatCursorStore } from './chat-cursors.js';
import { ResumeIdStore } from './resume-ids.js';
import { RunStore } from './runs.js';
import { TaskRunStore } from './task-runs.js';
import { TaskStore } from './tasks.js';
import { UsageStore } from './usage.js';
import { WebhookNonceStore } from './webhook-nonces.js';

/**
 * The durable state of one installation: every table family behind one handle. Code outside
 * store/ goes through these modules and `tx` / `txImmediate`, never through `db` (which is
 * here for the store's own modules and for tests that inject faults).
 */
export class Store {
  readonly chats: ChatStore;
  readonly groups: GroupStore;
  readonly messages: MessageStore;
  readonly runs: RunStore;
  readonly outbox: OutboxStore;
  readonly cursors: ChatCursorStore;
  readonly resumeIds: ResumeIdStore;
  readonly agentSessions: AgentSessionStore;
  readonly deadLetters: DeadLetterStore;
  readonly tasks: TaskStore;
  readonly taskRuns: TaskRunStore;
  readonly usage: UsageStore;
  readonly webhookNonces: WebhookNonceStore;

  constructor(readonly db: Db) {
    this.chats = new ChatStore(db);
    this.groups = new GroupStore(db);
    this.messages = new MessageStore(db);
    this.runs = new RunStore(db);
    this.outbox = new OutboxStore(db);
    this.cursors = new ChatCursorStore(db);
    this.resumeIds = new ResumeIdStore(db);
    this.agentSessions = new AgentSessionStore(db);
    this.deadLetters = new DeadLetterStore(db);
    this.tasks = new TaskStore(db);
    this.taskRuns = new TaskRunStore(db);
    this.usage = new UsageStore(db);
    this.webhookNonces = new WebhookNonceStore(db);
  }

  static open(file: string): Store {
    return new Store(openDb(file));
  }

  /** Runs `fn` in one SQLite transaction (all or nothing); inside another one, a savepoint. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Runs `fn` in one transaction that takes the write lock at its start (BEGIN IMMEDIATE), so a
   * read-then-write inside it cannot be overtaken by another process's write (claims).
   */
  txImmediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}
