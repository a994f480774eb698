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
import { SearchStore } from './search.js';
import { TranscriptStore } from './transcripts.js';

/** The durable state of one installation: every table family behind one handle. */
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
  readonly transcripts: TranscriptStore;
  readonly search: SearchStore;

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
    this.transcripts = new TranscriptStore(db);
    this.search = new SearchStore(db);
  }

  static open(file: string): Store {
    return new Store(openDb(file));
  }

  /** Runs `fn` in one SQLite transaction (all or nothing). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
