import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../../config/load.js';
import { GroupService } from '../../groups/group-service.js';
import { TaskError } from '../../schedule/errors.js';
import { OWNER, TaskService, type Actor } from '../../tasks/task-service.js';
import { formatWallTime } from '../../schedule/time-zone.js';
import type { TaskView } from '../../tasks/task-view.js';
import type { TaskRunRecord } from '../../store/task-runs.js';
import { ApiClient, ApiError } from '../api-client.js';
import { formatCost, formatDuration, formatTime, json, oneLine, table } from '../format.js';
import { intOption, withLocalStore } from '../local.js';
import { UsageError } from '../usage-error.js';
import { TASK_TEMPLATES } from '../../memory/task-templates.js';

const CLI_ACTOR: Actor = { ...OWNER, via: 'cli' };

/** A bad schedule or option is a usage error (exit 2); anything else a failure (exit 1). */
function rethrow(err: unknown): never {
  if (err instanceof TaskError && err.code === 'invalid') throw new UsageError(err.message);
  if (err instanceof ApiError && err.status === 400) throw new UsageError(err.message);
  throw err;
}

/** Runs `fn` on the installation's database through a TaskService acting as the owner. */
function withTasks<T>(config: Config, fn: (tasks: TaskService) => T): Promise<T> {
  return withLocalStore(config, { create: true }, (store) => {
    new GroupService(store, config.paths).ensureMain();
    return fn(new TaskService({ store, timezone: config.timezone }));
  }).catch(rethrow);
}

/**
 * A change goes through the running daemon's API when one answers (so its timer re-arms at
 * once); without a daemon it is written to the database, and the next start picks it up.
 */
async function change<T>(
  config: Config,
  api: { method: string; path: string; body?: unknown },
  local: (tasks: TaskService) => T,
): Promise<T> {
  const client = ApiClient.fromConfig(config);
  if (!(await client.probe(1500))) return withTasks(config, local);
  const res = await fetch(client.baseUrl + api.path, {
    method: api.method,
    headers: {
      authorization: `Bearer ${client.apiToken()}`,
      'content-type': 'application/json',
    },
    body: api.body === undefined ? undefined : JSON.stringify(api.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    rethrow(
      new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `HTTP ${res.status}`),
    );
  }
  return parsed as T;
}

const path = (id: string, action = '') => `/api/tasks/${encodeURIComponent(id)}${action}`;

function nextText(t: TaskView): string {
  if (t.nextRunAt === null) return '-';
  return `${formatWallTime(t.timezone, t.nextRunAt)}${t.running ? ' (running)' : ''}`;
}

/** The task table. Pure. */
export function renderTasks(tasks: TaskView[]): string {
  if (!tasks.length) return 'no tasks (add one: clawpod tasks add <group> --every 1h "<prompt>")';
  return table(
    ['ID', 'GROUP', 'SCHEDULE', 'NEXT (task zone)', 'STATUS', 'CONTEXT', 'PROMPT'],
    tasks.map((t) => [
      t.id,
      t.group,
      t.description,
      nextText(t),
      t.consecutiveFailures ? `${t.status} (${t.consecutiveFailures} failed)` : t.status,
      t.contextMode,
      oneLine(t.prompt, 40),
    ]),
  );
}

/** Every field of a task, its next fire times and recent history. Pure. */
export function renderTask(t: TaskView, next: string[], history: TaskRunRecord[]): string {
  const lines = [
    `id:        ${t.id}`,
    `group:     ${t.group}`,
    `chat:      ${t.chat ?? "(the group's first chat)"}`,
    `schedule:  ${t.description}  [${t.type} ${t.value}]`,
    `status:    ${t.status}${t.running ? ' (a run is in progress)' : ''}`,
    `next:      ${next.join(', ') || '-'}`,
    `context:   ${t.contextMode}`,
    `missed:    ${t.missedPolicy}${t.missedCap ? ` (cap ${t.missedCap})` : ''}`,
    `failures:  ${t.consecutiveFailures} in a row`,
    `last run:  ${formatTime(t.lastRunAt)}`,
    `created:   ${formatTime(t.createdAt)} by ${t.createdBy}`,
    ...(t.preCheck ? [`pre-check: ${oneLine(t.preCheck, 80)}`] : []),
    `prompt:    ${t.prompt}`,
  ];
  if (history.length) lines.push('', renderHistory(history));
  return lines.join('\n');
}

/** A task's occurrences, newest first. Pure. */
export function renderHistory(runs: TaskRunRecord[]): string {
  if (!runs.length) return 'no runs yet';
  return table(
    ['DUE', 'TRIGGER', 'STATUS', 'TRIES', 'DURATION', 'TOKENS in/out', 'COST', 'RESULT / ERROR'],
    runs.map((r) => [
      formatTime(r.scheduledFor),
      r.trigger,
      r.status,
      r.attempts ? String(r.attempts) : '-',
      r.startedAt !== null && r.endedAt !== null ? formatDuration(r.endedAt - r.startedAt) : '-',
      r.inputTokens === null ? '-' : `${r.inputTokens}/${r.outputTokens ?? 0}`,
      formatCost(r.costUsd ?? undefined),
      oneLine(r.error ?? r.result, 60),
    ]),
  );
}

interface AddOptions {
  cron?: string;
  every?: string;
  at?: string;
  tz?: string;
  chat?: string;
  context?: 'group' | 'isolated';
  missed?: 'skip' | 'latest' | 'all';
  missedCap?: number;
  id?: string;
  template?: string;
  json?: boolean;
}

/**
 * The TaskInput for `tasks add`; exactly one of --cron, --every, --at. A `--template` fills in
 * its schedule, prompt, context, missed policy and id where the options do not say otherwise.
 */
export function addInput(group: string, prompt: string[], o: AddOptions): Record<string, unknown> {
  if (o.template !== undefined) {
    const t = TASK_TEMPLATES[o.template];
    if (!t)
      throw new UsageError(
        `no task template "${o.template}" (templates: ${Object.keys(TASK_TEMPLATES).join(', ')})`,
      );
    const scheduled = o.cron !== undefined || o.every !== undefined || o.at !== undefined;
    return addInput(group, prompt.length ? prompt : [t.prompt], {
      ...o,
      template: undefined,
      cron: scheduled ? o.cron : t.cron,
      context: o.context ?? t.contextMode,
      missed: o.missed ?? t.missedPolicy,
      id: o.id ?? t.id(group),
    });
  }
  const forms = [
    o.cron !== undefined && { type: 'cron', schedule: o.cron },
    o.every !== undefined && { type: 'interval', schedule: o.every },
    o.at !== undefined && { type: 'once', schedule: o.at },
  ].filter(Boolean);
  if (forms.length !== 1) throw new UsageError('give exactly one of --cron, --every or --at');
  const text = prompt.join(' ').trim();
  if (!text)
    throw new UsageError('the prompt is missing: clawpod tasks add <group> --every 1h "<prompt>"');
  return {
    group,
    prompt: text,
    ...forms[0],
    ...(o.tz && { timezone: o.tz }),
    ...(o.chat && { chat: o.chat }),
    ...(o.context && { contextMode: o.context }),
    ...(o.missed && { missedPolicy: o.missed }),
    ...(o.missedCap !== undefined && { missedCap: o.missedCap }),
    ...(o.id && { id: o.id }),
  };
}

const times = (list: string[]) => list.map((t) => `  ${t}`).join('\n');

/** `clawpod tasks list|show|add|pause|resume|cancel|run-now|history|next`. */
export function registerTasks(program: Command): void {
  const tasks = program
    .command('tasks')
    .description('scheduled tasks: list, show, add, pause, resume, cancel, run now, history, next');

  tasks
    .command('list', { isDefault: true })
    .description('all tasks with their schedule and next run')
    .option('--group <group>', 'only this group')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'active',
        'paused',
        'completed',
        'cancelled',
      ]),
    )
    .option('--json', 'print as JSON')
    .action(async (o: { group?: string; status?: TaskView['status']; json?: boolean }) => {
      const list = await withTasks(loadConfig(), (t) => t.list(CLI_ACTOR, o));
      console.log(o.json ? json(list) : renderTasks(list));
    });

  tasks
    .command('show <id>')
    .description('one task: settings, next fire times, recent runs')
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const out = await withTasks(loadConfig(), (t) => {
        const task = t.get(CLI_ACTOR, id);
        const next = t.next(CLI_ACTOR, id, 3).times.map((x) => x.local);
        const history = t.history(CLI_ACTOR, id, 5);
        return o.json
          ? json({ ...task, nextRuns: next, history })
          : renderTask(task, next, history);
      });
      console.log(out);
    });

  tasks
    .command('add <group> [prompt...]')
    .description("schedule a task for a group (its output goes to the group's chat)")
    .option(
      '--template <name>',
      `a built-in task: ${Object.values(TASK_TEMPLATES)
        .map((t) => `${t.name} (${t.description})`)
        .join('; ')}`,
    )
    .option('--cron <expr>', 'cron expression, 5 or 6 fields, e.g. "0 8 * * 1"')
    .option('--every <interval>', 'interval, e.g. 15m, 2h, 1d, PT30M')
    .option('--at <time>', 'once, ISO 8601, e.g. 2026-12-01T09:00 (read in --tz)')
    .option('--tz <zone>', 'IANA time zone (default: the configured one)')
    .option('--chat <chat>', "chat for the output (default: the group's first chat)")
    .addOption(
      new Option('--context <mode>', 'session: isolated (default) or group').choices([
        'group',
        'isolated',
      ]),
    )
    .addOption(
      new Option('--missed <policy>', 'runs missed while down (default latest)').choices([
        'skip',
        'latest',
        'all',
      ]),
    )
    .option('--missed-cap <n>', 'with --missed all: most catch-up runs (default 10)', intOption(1))
    .option('--id <id>', 'a task id of your choice (adding the same id again changes nothing)')
    .option('--json', 'print the result as JSON')
    .action(async (group: string, prompt: string[], o: AddOptions) => {
      const input = addInput(group, prompt, o);
      const res = await change(
        loadConfig(),
        { method: 'POST', path: '/api/tasks', body: input },
        (t) => t.create(CLI_ACTOR, input),
      );
      if (o.json) return console.log(json(res));
      const verb = res.created ? 'added task' : 'task already exists:';
      console.log(`${verb} ${res.id} for group ${res.task.group}: ${res.schedule.description}`);
      console.log(`next runs (${res.schedule.timezone}):\n${times(res.nextRuns)}`);
      if (res.expectedCost) console.log(`expected cost: ${res.expectedCost.text}`);
    });

  for (const [name, action, past] of [
    ['pause', 'pause', 'paused'],
    ['resume', 'resume', 'resumed'],
    ['cancel', 'cancel', 'cancelled'],
  ] as const) {
    tasks
      .command(`${name} <id>`)
      .description(`${name} a task`)
      .option('--json', 'print the task as JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        const task = await change(
          loadConfig(),
          { method: 'POST', path: path(id, `/${action}`) },
          (t) => t[action](CLI_ACTOR, id),
        );
        console.log(
          o.json ? json(task) : `${past} task ${task.id} (${task.status}; next: ${nextText(task)})`,
        );
      });
  }

  tasks
    .command('run-now <id>')
    .description('run a task once now, beside its schedule (needs the running daemon)')
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const res = await change(loadConfig(), { method: 'POST', path: path(id, '/run') }, (t) =>
        t.runNow(CLI_ACTOR, id),
      );
      console.log(
        o.json ? json(res) : `queued a run of task ${id} (see: clawpod tasks history ${id})`,
      );
    });

  tasks
    .command('history <id>')
    .description("a task's runs, newest first: ok, error, timeout, missed, skipped")
    .option('-n, --limit <n>', 'how many', intOption(1), 20)
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { limit: number; json?: boolean }) => {
      const runs = await withTasks(loadConfig(), (t) => t.history(CLI_ACTOR, id, o.limit));
      console.log(o.json ? json(runs) : renderHistory(runs));
    });

  tasks
    .command('next <schedule>')
    .description(
      'print the next fire times of a schedule (cron, interval or time); creates nothing',
    )
    .option('--tz <zone>', 'IANA time zone (default: the configured one)')
    .option('-n, --count <n>', 'how many', intOption(1), 5)
    .option('--json', 'print as JSON')
    .action((schedule: string, o: { tz?: string; count: number; json?: boolean }) => {
      const timezone = o.tz ?? loadConfig().timezone;
      let preview: ReturnType<typeof TaskService.preview>;
      try {
        preview = TaskService.preview({ schedule, timezone, n: o.count }, Date.now());
      } catch (err) {
        rethrow(err);
      }
      if (o.json) return console.log(json(preview));
      console.log(
        `${preview.schedule.description}  [${preview.schedule.type} ${preview.schedule.value}]`,
      );
      console.log(times(preview.times.map((t) => t.local)) || '  (no future fire time)');
    });
}
