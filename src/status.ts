import type { ChannelHealth } from './channels/channel.js';
import type { GroupQueue } from './queue/group-queue.js';
import { sessionView, type SessionView } from './runs/session-view.js';
import type { AgentSession } from './runs/agent-session.js';
import type { Store } from './store/store.js';
import type { RunRecord } from './store/runs.js';
import type { DeadLetter } from './store/dead-letters.js';
import type { OutboxStatus } from './store/outbox.js';
import { dueTasks, type DueTasks } from './tasks/task-view.js';
import type { IpcStatus } from './ipc/ipc-host.js';
import type { StorageReport } from './store/storage-health.js';

/** Everything `clawpod status` and `GET /api/status` report. */
export interface DaemonStatus {
  daemon: {
    running: boolean;
    pid: number | null;
    version: string;
    startedAt: number | null;
    home: string;
  };
  runtime: { configured: string; selected: string | null; why: string };
  harnesses: string[];
  channels: Array<{ name: string } & ChannelHealth>;
  groups: Array<{
    name: string;
    isMain: boolean;
    chats: string[];
    /** Human messages not yet consumed by a turn, over all the group's chats. */
    pendingMessages: number;
  }>;
  /** Live agent sessions, apart from runs: a session idle for follow-ups is not a running run. */
  sessions: SessionView[];
  queue: { running: number; waiting: number; pending: number; backoff: number };
  outbox: Record<OutboxStatus, number>;
  /** `count`: all ever recorded; `pending`: those waiting for a decision (retry or discard). */
  deadLetters: { count: number; pending?: number; recent: DeadLetter[] };
  /** Whether the store takes writes (optional: absent in reports from older daemons). */
  storage?: StorageReport;
  runs: { byStatus: Record<string, number>; recent: RunRecord[] };
  /** Tasks by status and the next 5 due (optional: absent in reports from older daemons). */
  tasks?: DueTasks;
  /**
   * The groups' IPC folders: entries in errors/ (capped), queue dirs repaired and planted files
   * set aside, old errors/ entries rotated out. Only while the daemon runs.
   */
  ipc?: IpcStatus;
}

export interface StatusSources {
  store: Store;
  version: string;
  home: string;
  runtime: DaemonStatus['runtime'];
  harnesses: string[];
  daemon?: { pid: number; startedAt: number };
  queue?: GroupQueue;
  sessions?: AgentSession[];
  channels?: Array<{ name: string; health(): ChannelHealth }>;
  ipc?: IpcStatus;
}

/** Builds the status report from the store (and the live daemon parts when running). */
export function buildStatus(src: StatusSources): DaemonStatus {
  const { store } = src;
  return {
    daemon: {
      running: Boolean(src.daemon),
      pid: src.daemon?.pid ?? null,
      version: src.version,
      startedAt: src.daemon?.startedAt ?? null,
      home: src.home,
    },
    runtime: src.runtime,
    harnesses: src.harnesses,
    channels: (src.channels ?? []).map((c) => ({ name: c.name, ...c.health() })),
    groups: store.groups.list().map((g) => ({
      name: g.folder,
      isMain: g.isMain,
      chats: g.chats,
      pendingMessages: store.messages.pendingCount(g.chats),
    })),
    sessions: (src.sessions ?? []).map(sessionView),
    queue: src.queue?.stats() ?? { running: 0, waiting: 0, pending: 0, backoff: 0 },
    outbox: store.outbox.countByStatus(),
    deadLetters: {
      count: store.deadLetters.count(),
      pending: store.deadLetters.count('pending'),
      recent: store.deadLetters.list({ limit: 10 }),
    },
    storage: store.health.report(),
    runs: { byStatus: store.runs.countByStatus(), recent: store.runs.list({ limit: 10 }) },
    tasks: dueTasks(store, 5),
    ...(src.ipc ? { ipc: src.ipc } : {}),
  };
}
