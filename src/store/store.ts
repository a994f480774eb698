import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDb, type Db, type DbOptions } from './db.js';
import { ApprovalStore } from './approvals.js';
import { BudgetCapStore } from './budget-caps.js';
import { ChatStore } from './chats.js';
import { GuardRuleStore } from './guard-rules.js';
import { DeadLetterStore } from './dead-letters.js';
import { DelegationStore } from './delegations.js';
import { GroupCommit } from './group-commit.js';
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
import { ViewStore } from './views.js';
import { WebhookNonceStore } from './webhook-nonces.js';
import type { StorageLocation, StorageProblem } from './storage-errors.js';
import { StorageHealth } from './storage-health.js';
import { SearchStore } from './search.js';
import { TranscriptStore } from './transcripts.js';

export interface StoreOptions {
  /** The database file (for messages and the free-space probe); default `:memory:`. */
  file?: string;
  /** Concurrent intake writes share one commit (default true). */
  groupCommit?: boolean;
  /** How long an intake write retries a locked database before it is refused (default 5 s). */
  lockWaitMs?: number;
  /** Free bytes the data dir needs before a disk-full store counts as writable again. */
  minFreeBytes?: number;
}

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
  readonly delegations: DelegationStore;
  readonly outbox: OutboxStore;
  readonly cursors: ChatCursorStore;
  readonly resumeIds: ResumeIdStore;
  readonly agentSessions: AgentSessionStore;
  readonly deadLetters: DeadLetterStore;
  readonly tasks: TaskStore;
  readonly taskRuns: TaskRunStore;
  readonly usage: UsageStore;
  readonly webhookNonces: WebhookNonceStore;
  /** Read-only joins for the Control UI and its event stream. */
  readonly views: ViewStore;
  readonly approvals: ApprovalStore;
  readonly guardRules: GuardRuleStore;
  readonly budgetCaps: BudgetCapStore;
  /** Whether writes succeed; see docs/operations.md, "Storage". */
  readonly health: StorageHealth;
  /** Where the database lives, for error messages. */
  readonly where: StorageLocation;
  private readonly intake: GroupCommit;
  /** One transaction wrapper for every `tx` (better-sqlite3 builds four functions per wrapper). */
  private readonly inTx: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly transcripts: TranscriptStore;
  readonly search: SearchStore;

  constructor(
    readonly db: Db,
    opts: StoreOptions = {},
  ) {
    this.chats = new ChatStore(db);
    this.groups = new GroupStore(db);
    this.messages = new MessageStore(db);
    this.runs = new RunStore(db);
    this.delegations = new DelegationStore(db);
    this.outbox = new OutboxStore(db);
    this.cursors = new ChatCursorStore(db);
    this.resumeIds = new ResumeIdStore(db);
    this.agentSessions = new AgentSessionStore(db);
    this.deadLetters = new DeadLetterStore(db);
    this.tasks = new TaskStore(db);
    this.taskRuns = new TaskRunStore(db);
    this.usage = new UsageStore(db);
    this.webhookNonces = new WebhookNonceStore(db);
    this.views = new ViewStore(db);
    this.approvals = new ApprovalStore(db);
    this.guardRules = new GuardRuleStore(db);
    this.budgetCaps = new BudgetCapStore(db);
    const file = opts.file ?? ':memory:';
    this.where = { file, dir: file === ':memory:' ? '(memory)' : dirname(file) };
    const minFree = opts.minFreeBytes ?? 1024 * 1024;
    this.health = new StorageHealth({ probe: (p) => this.probe(p, minFree) });
    this.intake = new GroupCommit({
      db,
      health: this.health,
      where: this.where,
      batch: opts.groupCommit ?? true,
      lockWaitMs: opts.lockWaitMs ?? 5000,
    });
    this.inTx = db.transaction((fn: () => unknown) => fn());
    this.transcripts = new TranscriptStore(db);
    this.search = new SearchStore(db);
  }

  static open(file: string, opts: StoreOptions & DbOptions = {}): Store {
    return new Store(openDb(file, opts), { ...opts, file });
  }

  /** Runs `fn` in one SQLite transaction (all or nothing); inside another one, a savepoint. */
  tx<T>(fn: () => T): T {
    return this.inTx(fn) as T;
  }

  /**
   * Runs `fn` in one transaction that takes the write lock at its start (BEGIN IMMEDIATE), so a
   * read-then-write inside it cannot be overtaken by another process's write (claims).
   */
  txImmediate<T>(fn: () => T): T {
    return this.inTx.immediate(fn) as T;
  }

  /**
   * Runs `fn` in a transaction that is on disk when the promise resolves (group commit, lock
   * retries off the event loop; see group-commit.ts). For writes that are acknowledged to
   * someone: an inbound message before its 202 or channel ack; and for bookkeeping written
   * often and read rarely (agent session states), so a burst shares one fsync.
   */
  commit<T>(fn: () => T): Promise<T> {
    return this.intake.write(fn);
  }

  /**
   * Runs `fn` now in a transaction that takes the write lock at its start (as txImmediate) and
   * also commits the `commit` writes still queued, so both share one fsync; returns `fn`'s
   * result once on disk. For a synchronous writer on a busy path (the scheduler's claims).
   */
  commitNow<T>(fn: () => T): T {
    return this.intake.writeNow(fn);
  }

  /** Resolves once every `commit` write queued so far is on disk (or was refused). */
  committed(): Promise<void> {
    return this.intake.settled();
  }

  close(): void {
    this.intake.close();
    this.health.close();
    this.db.close();
  }

  /** Would a write work again? Takes the write lock for a moment; checks free space. */
  private probe(problem: StorageProblem, minFreeBytes: number): boolean {
    if (problem === 'disk_full' && this.where.file !== ':memory:') {
      const fs = statfsSync(this.where.dir);
      // root may write into the blocks a file system reserves for it
      const free = process.getuid?.() === 0 ? fs.bfree : fs.bavail;
      if (free * fs.bsize < minFreeBytes) return false;
    }
    this.db.exec('BEGIN IMMEDIATE');
    this.db.exec('ROLLBACK');
    return true;
  }
}
