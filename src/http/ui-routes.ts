import { join } from 'node:path';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { EventBus } from '../events/bus.js';
import type { GroupService } from '../groups/group-service.js';
import { chatIdSchema } from '../store/group-schema.js';
import { UnsafePathError } from '../sandbox/errors.js';
import { safeReadDir, safeReadFile, safeWriteFile, splitRelative } from '../sandbox/safe-fs.js';
import { TaskError } from '../schedule/errors.js';
import { TaskService } from '../tasks/task-service.js';
import type { Store } from '../store/store.js';
import { apiError } from './errors.js';
import { RunJournal } from './run-journal.js';

/** One `clawpod doctor` finding (same shape as the CLI prints with `--json`). */
export interface DoctorFinding {
  level: 'ok' | 'warn' | 'fail';
  title: string;
  fix?: string;
}

/** An egress request the allowlist refused (kept in memory, newest last). */
export interface EgressRefusal {
  at: number;
  group: string;
  host: string;
  reason: string;
}

/** What the Control UI's routes need beyond the core API's dependencies. */
export interface UiRouteDeps {
  store: Store;
  bus: EventBus;
  groups: GroupService;
  /** `$CLAWPOD_HOME/groups`: each group's folder (sandbox-writable: read and written safely). */
  groupsDir: string;
  timezone: string;
  /** Stops the turn answering `runId`; false when no live session answers it. */
  stopRun(runId: string): boolean;
  /** Runs the doctor checks; absent: `GET /api/doctor` answers 503. */
  doctor?(): Promise<DoctorFinding[]>;
  /** Recent egress refusals; absent: an empty list. */
  egressRefusals?(): EgressRefusal[];
}

/** The memory files a group's harness reads: Claude Code's and Codex's. */
const MEMORY_FILES = ['CLAUDE.md', 'AGENTS.md'] as const;
const MAX_MEMORY_BYTES = 256 * 1024;
const MAX_FILE_BYTES = 1024 * 1024;

const memoryBody = z.strictObject({
  file: z.enum(MEMORY_FILES).optional(),
  text: z.string().max(MAX_MEMORY_BYTES, `at most ${MAX_MEMORY_BYTES} characters`),
});
const nextQuery = z.strictObject({
  schedule: z.string().min(1).max(200),
  type: z.enum(['cron', 'interval', 'once']).optional(),
  tz: z.string().min(1).max(64).optional(),
  n: z.coerce.number().int().min(1).max(20).default(5),
  group: z.string().min(1).max(64).optional(),
});
const recentQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional(),
});
const pathQuery = z.strictObject({ path: z.string().max(1024).default('') });

const issue = (err: z.ZodError) => {
  const i = err.issues[0]!;
  return `${i.path.map(String).join('.') || 'body'}: ${i.message}`;
};

async function json(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

/** The memory file a group's harness reads first. */
function memoryFileOf(
  harness: string | null,
  defaultHarness: string,
): (typeof MEMORY_FILES)[number] {
  return (harness ?? defaultHarness) === 'codex' ? 'AGENTS.md' : 'CLAUDE.md';
}

/** Relative path components checked (no `..`, no absolute); '' is the folder itself. */
function relativePath(raw: string): string {
  const rel = raw.replace(/^\/+|\/+$/g, '');
  if (rel) splitRelative(rel);
  return rel;
}

/**
 * Routes of the Control UI (each also a plain API call for scripts and the CLI): chat list with
 * last messages and a chat's latest page, unbind, a group's memory file (read/write) and folder
 * (read-only), schedule preview with expected cost, a run's transcript and stop, doctor, egress
 * refusals. Group folders are written by sandboxes: every touch goes through safe-fs (no
 * symlink followed, no path outside the folder). Mount after the token middleware.
 */
export function mountUiRoutes(app: Hono, deps: UiRouteDeps, defaultHarness: string): RunJournal {
  const journal = new RunJournal(deps.bus);
  const folderOf = (name: string) => join(deps.groupsDir, deps.groups.get(name).folder);
  const unsafe = (c: Context, err: unknown): Response => {
    if (err instanceof UnsafePathError) return apiError(c, 400, 'unsafe_path', err.message);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return apiError(c, 404, 'not_found', 'no such file or folder');
    if (code === 'EISDIR') return apiError(c, 400, 'is_a_folder', 'that path is a folder');
    throw err;
  };

  app.get('/api/chats/overview', (c) => c.json(deps.store.views.chatOverview()));
  app.get('/api/chats/:chat/recent', (c) => {
    const chat = chatIdSchema.safeParse(c.req.param('chat'));
    if (!chat.success) return apiError(c, 400, 'invalid_chat', issue(chat.error));
    const q = recentQuery.safeParse(c.req.query());
    if (!q.success) return apiError(c, 400, 'invalid_query', issue(q.error));
    return c.json(deps.store.views.latestOfChat(chat.data, q.data.limit, q.data.before));
  });

  app.get('/api/groups/:name/memory', async (c) => {
    const g = deps.groups.get(c.req.param('name'));
    const asked = c.req.query('file');
    if (asked !== undefined && !(MEMORY_FILES as readonly string[]).includes(asked))
      return apiError(c, 400, 'invalid_file', `file must be one of ${MEMORY_FILES.join(', ')}`);
    const file =
      (asked as (typeof MEMORY_FILES)[number]) ?? memoryFileOf(g.harness, defaultHarness);
    try {
      const text = (
        await safeReadFile(folderOf(g.folder), file, { maxBytes: MAX_MEMORY_BYTES })
      ).toString('utf8');
      return c.json({ group: g.folder, file, exists: true, text });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return c.json({ group: g.folder, file, exists: false, text: '' });
      return unsafe(c, err);
    }
  });
  app.put('/api/groups/:name/memory', async (c) => {
    const g = deps.groups.get(c.req.param('name'));
    const body = memoryBody.safeParse(await json(c));
    if (!body.success) return apiError(c, 400, 'invalid_body', issue(body.error));
    const file = body.data.file ?? memoryFileOf(g.harness, defaultHarness);
    try {
      // Atomic, never through a planted link; the file stays the group's (its sandbox uid).
      await safeWriteFile(folderOf(g.folder), file, body.data.text, { inheritOwner: true });
    } catch (err) {
      return unsafe(c, err);
    }
    return c.json({ group: g.folder, file, exists: true, text: body.data.text });
  });

  app.get('/api/groups/:name/files', async (c) => {
    const q = pathQuery.safeParse(c.req.query());
    if (!q.success) return apiError(c, 400, 'invalid_query', issue(q.error));
    try {
      const root = folderOf(c.req.param('name'));
      const path = relativePath(q.data.path);
      const entries = await safeReadDir(root, path);
      entries.sort((a, b) =>
        (a.type === 'dir') !== (b.type === 'dir')
          ? a.type === 'dir'
            ? -1
            : 1
          : a.name.localeCompare(b.name),
      );
      return c.json({ path, entries });
    } catch (err) {
      return unsafe(c, err);
    }
  });
  app.get('/api/groups/:name/files/content', async (c) => {
    const q = pathQuery.safeParse(c.req.query());
    if (!q.success) return apiError(c, 400, 'invalid_query', issue(q.error));
    try {
      const path = relativePath(q.data.path);
      if (!path) return apiError(c, 400, 'is_a_folder', 'name a file: ?path=<file>');
      const data = await safeReadFile(folderOf(c.req.param('name')), path, {
        maxBytes: MAX_FILE_BYTES,
      });
      // Never rendered by the browser: the agent wrote it.
      return c.body(new Uint8Array(data), 200, {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${path
          .split('/')
          .pop()!
          .replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      });
    } catch (err) {
      return unsafe(c, err);
    }
  });

  app.get('/api/schedule/next', (c) => {
    const q = nextQuery.safeParse(c.req.query());
    if (!q.success) return apiError(c, 400, 'invalid_query', issue(q.error));
    const { schedule, type, tz, n, group } = q.data;
    try {
      const preview = TaskService.preview(
        {
          schedule,
          type,
          timezone: tz ?? deps.timezone,
          n,
        },
        Date.now(),
      );
      return c.json({
        ...preview,
        expectedCostPerRunUsd: group ? costPerRun(deps.store, group) : null,
      });
    } catch (err) {
      if (err instanceof TaskError) return apiError(c, 400, err.detail ?? 'invalid', err.message);
      throw err;
    }
  });

  app.get('/api/runs/:id/transcript', (c) => {
    const run = deps.store.runs.get(c.req.param('id'));
    if (!run) return apiError(c, 404, 'not_found', `no run ${c.req.param('id')}`);
    const input =
      run.chatId && run.seqStart !== null && run.seqEnd !== null
        ? deps.store.views.runInput(run.chatId, run.seqStart, run.seqEnd)
        : [];
    return c.json({
      run,
      input,
      steps: journal.entries(run.id),
      replies: deps.store.views.runReplies(run.id),
    });
  });
  app.post('/api/runs/:id/stop', (c) => {
    const id = c.req.param('id');
    const run = deps.store.runs.get(id);
    if (!run) return apiError(c, 404, 'not_found', `no run ${id}`);
    if (run.status !== 'running')
      return apiError(c, 409, 'not_running', `run ${id} has already ended (${run.status})`);
    if (!deps.stopRun(id))
      return apiError(
        c,
        409,
        'not_stoppable',
        `run ${id} has no agent working on it yet (it is starting); try again in a moment`,
      );
    return c.json({ id, stopping: true }, 202);
  });

  app.get('/api/doctor', async (c) => {
    if (!deps.doctor)
      return apiError(c, 503, 'unavailable', 'doctor checks are not available in this daemon');
    return c.json(await deps.doctor());
  });
  app.get('/api/egress/refusals', (c) => c.json(deps.egressRefusals?.() ?? []));
  return journal;
}

/** The mean cost of a group's recent runs that reported one (null when none did). */
function costPerRun(store: Store, group: string): number | null {
  const costs = store.runs
    .list({ group, limit: 50 })
    .map((r) => r.usage.costUsd)
    .filter((x): x is number => typeof x === 'number');
  return costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : null;
}
