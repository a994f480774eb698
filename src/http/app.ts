import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventBus } from '../events/bus.js';
import { GroupError } from '../groups/errors.js';
import type { GroupService } from '../groups/group-service.js';
import { chatIdSchema } from '../store/group-schema.js';
import type { ChannelRoutes } from '../channels/channel.js';
import type { Store } from '../store/store.js';
import { storageError, storageProblemOf } from '../store/storage-errors.js';
import type { DeadLetterService } from '../delivery/dead-letter-service.js';
import type { TaskService } from '../tasks/task-service.js';
import type { DaemonStatus } from '../status.js';
import { apiError } from './errors.js';
import { tokenMatches } from './api-token.js';
import { mountTaskRoutes } from './tasks-routes.js';
import { mountDeadLetterRoutes } from './deadletters-routes.js';
import { mountEventsRoute } from './events-route.js';
import { mountUiAssets } from './ui-assets.js';
import { mountUiRoutes, type UiRouteDeps } from './ui-routes.js';
import { mountSearchRoutes } from './search-routes.js';
import type { HistorySearch } from '../memory/history-search.js';
import { mountApprovalRoutes, type ApprovalRouteDeps } from './approvals-routes.js';
import { mountGroupChatRoutes } from './group-chat-routes.js';
import { mountGroupMountRoutes } from './group-mount-routes.js';
import { mountHookRoutes } from '../webhooks/routes.js';
import type { HookDeps } from '../webhooks/hooks.js';

export interface ApiDeps {
  token: string;
  /** The configured zone: usage days are local days. */
  timezone: string;
  version: string;
  store: Store;
  bus: EventBus;
  groups: GroupService;
  /** Scheduled tasks (`/api/tasks…`); absent: those routes are not mounted. */
  tasks?: TaskService;
  /** History search (`/api/search`); absent: not mounted. */
  history?: HistorySearch;
  metrics: Registry;
  status(): DaemonStatus;
  /**
   * The channels' routes, by factory name: `api` under `/api` (behind the token, e.g. the web
   * channel's `POST /api/messages`), `platform` under `/channels/<name>` (their own auth).
   */
  channelRoutes?: ReadonlyArray<{ name: string; routes: ChannelRoutes }>;
  /** Inbound webhooks (`POST /hooks/<name>`, own auth); absent: not mounted. */
  hooks?: HookDeps;
  /** Whether a `Host` header names this server (see host-check.ts); others get 421. */
  hostAllowed(host: string | undefined): boolean;
  /** Dead letters (`/api/deadletters…`); absent: those routes are not mounted. */
  deadLetters?: DeadLetterService;
  /** Approvals, guard rules, budgets (`/api/approvals…`); absent: not mounted. */
  approvals?: ApprovalRouteDeps;
  /** Where unexpected errors (with their cause) and storage failures are logged. */
  log: Logger;
  /** The Control UI's routes (memory, files, run stop, doctor…); absent: not mounted. */
  ui?: Omit<UiRouteDeps, 'store' | 'bus' | 'groups' | 'timezone'> & {
    /** The harness of groups without their own (which memory file they read). */
    defaultHarness: string;
  };
  /** Where the built Control UI is (default `dist/web/` of the package). */
  uiDir?: string;
}

const storageStatus = { busy: 503, disk_full: 507, io: 503 } as const;
const storageCode = { busy: 'storage_busy', disk_full: 'disk_full', io: 'storage_error' } as const;

/**
 * A write the store could not take: 503 (locked, I/O) or 507 (disk full) with `Retry-After`
 * and a message saying what to do; the health flag and the log learn of it too.
 */
function storageFailure(c: Context, err: unknown, deps: ApiDeps): Response {
  const e = storageError(err, deps.store.where);
  deps.store.health.failed(e);
  const level = e.problem === 'busy' ? 'warn' : 'error';
  deps.log[level]({ path: c.req.path, problem: e.problem, err: e.message }, 'write refused');
  c.header('Retry-After', String(e.retryAfterSec));
  return apiError(c, storageStatus[e.problem], storageCode[e.problem], e.message);
}

/**
 * Sent with every answer. The page loads only its own script and style and talks only to this
 * origin; no site may frame it (clickjacking); no answer is content-sniffed.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const bindSchema = z.strictObject({ chat: chatIdSchema });

const groupErrorStatus = { not_found: 404, conflict: 409, invalid: 400, forbidden: 403 } as const;

async function readJson(
  c: Context,
): Promise<{ ok: true; body: unknown } | { ok: false; res: Response }> {
  try {
    return { ok: true, body: await c.req.json() };
  } catch {
    return { ok: false, res: apiError(c, 400, 'invalid_json', 'the request body must be JSON') };
  }
}

function zodMessage(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.map(String).join('.') || 'body'}: ${i.message}`;
}

/**
 * The HTTP API and the Control UI. Loopback by default; every /api route but health needs the
 * token; every answer carries the security headers; a foreign `Host` gets 421.
 */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof GroupError)
      return apiError(c, groupErrorStatus[err.code], err.code, err.message);
    if (storageProblemOf(err)) return storageFailure(c, err, deps);
    // Method and path only: headers (the token) and bodies (webhook payloads) stay out.
    deps.log.error({ err, method: c.req.method, path: c.req.path }, 'HTTP request failed');
    return apiError(c, 500, 'internal', 'internal error; see the daemon log');
  });
  app.notFound((c) => apiError(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));

  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  app.use('*', async (c, next) => {
    const host = c.req.header('host');
    if (!deps.hostAllowed(host)) {
      return apiError(
        c,
        421,
        'misdirected_host',
        `this clawpod does not answer to Host "${host ?? ''}"; use the address it listens on, or add the name to http.allowedHosts in $CLAWPOD_HOME/config.yaml`,
      );
    }
    await next();
  });

  mountUiAssets(app, deps.uiDir);
  app.get('/api/health', (c) => c.json({ status: 'ok', version: deps.version }));

  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!tokenMatches(presented, deps.token)) {
      return apiError(
        c,
        401,
        'unauthorized',
        'missing or wrong bearer token (see $CLAWPOD_HOME/api-token)',
      );
    }
    await next();
  });
  app.use('/metrics', async (c, next) => {
    const header = c.req.header('authorization');
    if (
      !tokenMatches(header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined, deps.token)
    ) {
      return apiError(c, 401, 'unauthorized', 'missing or wrong bearer token');
    }
    await next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: (c) => apiError(c, 413, 'too_large', 'body over 1 MiB'),
    }),
  );

  for (const { name, routes } of deps.channelRoutes ?? []) {
    if (routes.api) app.route('/api', routes.api);
    if (routes.platform) app.route(`/channels/${name}`, routes.platform);
  }

  app.get('/api/chats', (c) => c.json(deps.store.chats.list()));
  app.get('/api/chats/:chat/messages', (c) => {
    const chat = chatIdSchema.safeParse(c.req.param('chat'));
    if (!chat.success) return apiError(c, 400, 'invalid_chat', zodMessage(chat.error));
    const after = Number(c.req.query('after') ?? 0);
    if (!Number.isInteger(after) || after < 0)
      return apiError(c, 400, 'invalid_after', 'after must be a sequence number ≥ 0');
    const messages = deps.store.messages.listChat(chat.data, after).map((m) => ({
      seq: m.seq,
      direction: m.direction,
      sender: m.direction === 'out' ? 'assistant' : (m.senderName ?? m.sender),
      text: m.text,
      ts: m.ts,
    }));
    return c.json(messages);
  });

  mountEventsRoute(app, deps);

  app.get('/api/groups', (c) => c.json(deps.groups.list()));
  app.post('/api/groups', async (c) => {
    const json = await readJson(c);
    if (!json.ok) return json.res;
    return c.json(deps.groups.add(json.body), 201);
  });
  app.get('/api/groups/:name', (c) => c.json(deps.groups.get(c.req.param('name'))));
  app.patch('/api/groups/:name', async (c) => {
    const json = await readJson(c);
    if (!json.ok) return json.res;
    return c.json(deps.groups.update(c.req.param('name'), json.body));
  });
  app.delete('/api/groups/:name', (c) => {
    deps.groups.remove(c.req.param('name'));
    return c.body(null, 204);
  });
  app.post('/api/groups/:name/chats', async (c) => {
    const json = await readJson(c);
    if (!json.ok) return json.res;
    const parsed = bindSchema.safeParse(json.body);
    if (!parsed.success) return apiError(c, 400, 'invalid_body', zodMessage(parsed.error));
    return c.json(deps.groups.bind(c.req.param('name'), parsed.data.chat));
  });

  mountGroupChatRoutes(app, deps.groups);
  mountGroupMountRoutes(app, deps.groups);
  if (deps.tasks) mountTaskRoutes(app, deps.tasks);
  if (deps.history) mountSearchRoutes(app, { history: deps.history, timezone: deps.timezone });
  if (deps.hooks) mountHookRoutes(app, deps.hooks);
  if (deps.deadLetters) mountDeadLetterRoutes(app, deps.deadLetters);
  if (deps.ui) {
    const { defaultHarness, ...ui } = deps.ui;
    mountUiRoutes(
      app,
      { ...ui, store: deps.store, groups: deps.groups, timezone: deps.timezone },
      defaultHarness,
    );
  }
  if (deps.approvals) mountApprovalRoutes(app, deps.approvals);

  app.get('/api/usage', (c) => {
    const days = Number(c.req.query('days') ?? 30);
    if (!Number.isInteger(days) || days < 1 || days > 366) {
      return apiError(c, 400, 'invalid_days', 'days must be a whole number from 1 to 366');
    }
    return c.json(deps.store.usage.byGroupDay(Date.now() - days * 86_400_000, deps.timezone));
  });
  app.get('/api/runs', (c) => {
    const limit = Math.min(Number(c.req.query('limit') ?? 50) || 50, 1000);
    return c.json(deps.store.runs.list({ limit, group: c.req.query('group') || undefined }));
  });
  app.get('/api/runs/:id', (c) => {
    const run = deps.store.runs.get(c.req.param('id'));
    if (!run) return apiError(c, 404, 'not_found', `no run ${c.req.param('id')}`);
    // How far the run's answer got: its replies by delivery status.
    // Delegation: the runs it delegated (children), and the delegation it served (a delegate).
    return c.json({
      ...run,
      replies: deps.store.outbox.countForRun(run.id),
      children: deps.store.runs.children(run.id),
      delegation: deps.store.delegations.byRun(run.id) ?? null,
    });
  });
  app.get('/api/sessions', async (c) => {
    const limit = Math.min(Number(c.req.query('limit') ?? 50) || 50, 1000);
    const group = c.req.query('group') || undefined;
    await deps.store.committed(); // session states go by group commit: the ones queued too
    return c.json(deps.store.agentSessions.list({ limit, group }));
  });
  app.get('/api/status', (c) => c.json(deps.status()));
  app.get('/metrics', async (c) =>
    c.text(await deps.metrics.metrics(), 200, { 'content-type': deps.metrics.contentType }),
  );
  return app;
}
