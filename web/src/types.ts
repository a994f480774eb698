/**
 * The API's shapes, taken from the daemon's own types (type-only imports: nothing of the
 * server is bundled). A change on the server that breaks the UI fails `npm run typecheck`.
 */
export type { RunRecord } from '../../src/store/runs.js';
export type { RunProgress } from '../../src/events/bus.js';
export type { Group, NewGroup, GroupSettings } from '../../src/store/group-schema.js';
export type { TaskView } from '../../src/tasks/task-view.js';
export type { TaskInput, TaskPatchInput } from '../../src/tasks/task-rules.js';
export type { TaskRunRecord } from '../../src/store/task-runs.js';
export type { CreatedTask, SchedulePreview } from '../../src/tasks/task-service.js';
export type { DaemonStatus } from '../../src/status.js';
export type { AgentSessionRecord } from '../../src/store/agent-sessions.js';
export type { UsageDay } from '../../src/store/usage.js';
export type { DeadLetter } from '../../src/store/dead-letters.js';
export type { ChatOverview, MessageView } from '../../src/store/views.js';
export type { DoctorFinding, EgressRefusal } from '../../src/http/ui-routes.js';
export type { TranscriptStep } from '../../src/store/transcripts.js';
export type { MountStatus } from '../../src/groups/group-mounts.js';
export type { MountResult } from '../../src/groups/group-service.js';

import type { RunRecord } from '../../src/store/runs.js';
import type { TranscriptStep } from '../../src/store/transcripts.js';
import type { MessageView } from '../../src/store/views.js';

/** `GET /api/runs/:id/transcript`. */
export interface RunTranscript {
  run: RunRecord;
  input: MessageView[];
  steps: TranscriptStep[];
  replies: Array<{ text: string; status: string; attempts: number; error: string | null }>;
}

/** `GET /api/groups/:name/memory`. */
export interface MemoryFile {
  group: string;
  file: 'CLAUDE.md' | 'AGENTS.md';
  exists: boolean;
  text: string;
}

/** `GET /api/groups/:name/files`. */
export interface FolderListing {
  path: string;
  entries: Array<{ name: string; type: 'file' | 'dir' | 'symlink' | 'other' }>;
}

/** An approval waiting for the owner (`GET /api/approvals`, when the daemon has them). */
/** An approval as `GET /api/approvals` returns it (src/store/approvals.ts). */
export interface Approval {
  id: number;
  group: string;
  runId: string | null;
  kind: string;
  subject: string;
  /** The full effect as shown to a human. */
  card: string;
  taint: string[];
  askedIn: string | null;
  code: string | null;
  requestedAt: number;
  expiresAt: number;
  status: 'pending' | 'allowed' | 'denied' | 'expired';
  decision: 'once' | 'always' | 'deny' | null;
  decidedBy: string | null;
  decidedAt: number | null;
}

/** One budget cap with its spend in the current period (`GET /api/budgets`). */
export interface BudgetCap {
  scope: 'group' | 'task';
  ref: string;
  group: string;
  period: 'daily' | 'monthly';
  unit: 'usd' | 'tokens';
  cap: number;
  raised: boolean;
  spent: number;
  used: number;
  since: number;
}
