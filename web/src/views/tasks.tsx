import { useEffect, useState } from 'preact/hooks';
import { del, enc, get, patch, post } from '../api.js';
import { duration, usd, when } from '../format.js';
import { useLive } from '../live.js';
import { Markdown } from '../markdown.js';
import { href, navigate } from '../route.js';
import type { CreatedTask, Group, SchedulePreview, TaskRunRecord, TaskView } from '../types.js';
import { Action, Badge, Empty, ErrorNote, Loading, Section, errorText, useLoad } from '../ui.js';

type Kind = 'every' | 'cron' | 'at';
const PLACEHOLDER: Record<Kind, string> = {
  every: '15m, 1h, 1d',
  cron: '0 8 * * 1  (minute hour day month weekday)',
  at: '2026-12-24T09:00',
};
const TYPE: Record<Kind, 'interval' | 'cron' | 'once'> = {
  every: 'interval',
  cron: 'cron',
  at: 'once',
};
const kindOf = (t: TaskView): Kind =>
  t.type === 'interval' ? 'every' : t.type === 'cron' ? 'cron' : 'at';
const intervalText = (ms: number) =>
  ms % 86_400_000 === 0
    ? `${ms / 86_400_000}d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000}h`
      : ms % 60_000 === 0
        ? `${ms / 60_000}m`
        : `${ms / 1000}s`;
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

type Preview = SchedulePreview & { expectedCostPerRunUsd: number | null };

/** Next fire times and expected cost, as the schedule is typed (debounced). */
function useSchedulePreview(kind: Kind, value: string, tz: string, group: string) {
  const [state, setState] = useState<{ preview?: Preview; error?: string }>({});
  useEffect(() => {
    if (!value.trim()) return setState({});
    const ctl = new AbortController();
    const t = setTimeout(() => {
      const q = new URLSearchParams({ schedule: value.trim(), type: TYPE[kind], n: '5', group });
      if (tz.trim()) q.set('tz', tz.trim());
      get<Preview>(`/api/schedule/next?${q}`, ctl.signal).then(
        (preview) => setState({ preview }),
        (e: unknown) => !ctl.signal.aborted && setState({ error: errorText(e) }),
      );
    }, 250);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [kind, value, tz, group]);
  return state;
}

function perDay(p: Preview): number | null {
  const times = p.times.map((t) => t.at);
  if (times.length < 2) return times.length;
  const span = times[times.length - 1]! - times[0]!;
  return span > 0 ? ((times.length - 1) * 86_400_000) / span : null;
}

function TaskForm({
  task,
  groups,
  onDone,
}: {
  task?: TaskView;
  groups: Group[];
  onDone: (t: TaskView) => void;
}) {
  const [kind, setKind] = useState<Kind>(task ? kindOf(task) : 'every');
  const [value, setValue] = useState(
    task ? (task.type === 'interval' ? intervalText(Number(task.value)) : task.value) : '',
  );
  const [tz, setTz] = useState(task?.timezone ?? zone);
  const [group, setGroup] = useState(task?.group ?? 'main');
  const [prompt, setPrompt] = useState(task?.prompt ?? '');
  const [context, setContext] = useState(task?.contextMode ?? 'isolated');
  const [missed, setMissed] = useState(task?.missedPolicy ?? 'latest');
  const [chat, setChat] = useState(task?.chat ?? '');
  const { preview, error } = useSchedulePreview(kind, value, tz, group);
  const daily = preview ? perDay(preview) : null;
  const cost = preview?.expectedCostPerRunUsd ?? null;
  const submit = async () => {
    const body = {
      prompt,
      schedule: value.trim(),
      type: TYPE[kind],
      timezone: tz.trim() || undefined,
      contextMode: context,
      missedPolicy: missed,
      ...(chat.trim() ? { chat: chat.trim() } : task ? { chat: null } : {}),
    };
    const t = task
      ? await patch<TaskView>(`/api/tasks/${enc(task.id)}`, body)
      : (await post<CreatedTask>('/api/tasks', { ...body, group })).task;
    onDone(t);
  };
  return (
    <form class="form grid2" onSubmit={(e) => e.preventDefault()} data-testid="task-form">
      {!task ? (
        <label>
          Group
          <select value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            {groups.map((g) => (
              <option value={g.folder}>{g.folder}</option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        Repeat
        <select
          value={kind}
          data-testid="task-kind"
          onChange={(e) => setKind(e.currentTarget.value as Kind)}
        >
          <option value="every">every (interval)</option>
          <option value="cron">cron</option>
          <option value="at">once, at a time</option>
        </select>
      </label>
      <label>
        {kind === 'every' ? 'Every' : kind === 'cron' ? 'Cron expression' : 'At'}
        <input
          value={value}
          placeholder={PLACEHOLDER[kind]}
          data-testid="task-schedule"
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <label>
        Time zone
        <input value={tz} onInput={(e) => setTz(e.currentTarget.value)} />
      </label>
      <label class="wide">
        Prompt
        <textarea
          rows={3}
          value={prompt}
          data-testid="task-prompt"
          onInput={(e) => setPrompt(e.currentTarget.value)}
        />
      </label>
      <label>
        Context
        <select value={context} onChange={(e) => setContext(e.currentTarget.value as 'isolated')}>
          <option value="isolated">isolated (fresh session)</option>
          <option value="group">group (the group's conversation)</option>
        </select>
      </label>
      <label>
        Missed runs (host was down)
        <select value={missed} onChange={(e) => setMissed(e.currentTarget.value as 'latest')}>
          <option value="latest">run the latest once</option>
          <option value="skip">skip</option>
          <option value="all">run all (capped)</option>
        </select>
      </label>
      <label class="wide">
        Output to chat (empty: the group's first chat)
        <input value={chat} onInput={(e) => setChat(e.currentTarget.value)} />
      </label>
      <div class="wide preview-box" data-testid="task-preview">
        {error ? <p class="error">{error}</p> : null}
        {preview ? (
          <>
            <p>
              <strong>{preview.schedule.description}</strong>
            </p>
            <ol class="times">
              {preview.times.map((t) => (
                <li data-testid="next-time">{t.local.replace('T', ' ')}</li>
              ))}
            </ol>
            <p class="muted small">
              {cost === null
                ? 'Expected cost: unknown until this group has runs with a reported cost.'
                : `Expected cost: about ${usd(cost)} a run${daily !== null ? `, ${usd(cost * daily)} a day` : ''} (mean of the group's recent runs).`}
            </p>
          </>
        ) : !error ? (
          <p class="muted small">Type a schedule to see its next fire times.</p>
        ) : null}
      </div>
      <div class="wide row">
        <Action
          kind="primary"
          run={submit}
          testid="task-save"
          disabled={!preview || !prompt.trim()}
        >
          {task ? 'Save task' : 'Create task'}
        </Action>
      </div>
    </form>
  );
}

/** A key that changes whenever a run of `taskId` starts or ends (live events). */
function useTaskRunsKey(taskId?: string): string {
  const l = useLive();
  return [...l.runs.values()]
    .filter((r) => r.kind === 'task' && (!taskId || r.taskId === taskId))
    .map((r) => `${r.id}:${r.status}`)
    .join(',');
}

function History({ task }: { task: TaskView }) {
  const key = useTaskRunsKey(task.id);
  const runs = useLoad(
    (s) => get<TaskRunRecord[]>(`/api/tasks/${enc(task.id)}/runs?limit=50`, s),
    [task.id, key],
  );
  if (!runs.data) return runs.error ? <ErrorNote error={runs.error} /> : <Loading what="history" />;
  if (!runs.data.length) return <Empty>No runs yet.</Empty>;
  return (
    <ul class="plain history" data-testid="task-history">
      {runs.data.map((r) => (
        <li class="hist">
          <div class="row">
            <Badge value={r.error === 'stopped by the owner' ? 'stopped' : r.status} />
            <span>{when(r.scheduledFor, task.timezone)}</span>
            <span class="muted">{r.trigger}</span>
            <span class="muted">
              {duration(r.startedAt && r.endedAt ? r.endedAt - r.startedAt : null)}
            </span>
            <span class="muted">{usd(r.costUsd)}</span>
            {r.runId ? <a href={href('runs', r.runId)}>run</a> : null}
          </div>
          {r.result ? (
            <div class="hist-out" data-testid="task-output">
              <Markdown text={r.result} />
            </div>
          ) : null}
          {r.error ? <p class="error small">{r.error}</p> : null}
        </li>
      ))}
    </ul>
  );
}

function TaskDetail({
  task,
  groups,
  onChange,
}: {
  task: TaskView;
  groups: Group[];
  onChange: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const act = (what: string) => async () => {
    await post(`/api/tasks/${enc(task.id)}/${what}`);
    onChange();
  };
  return (
    <div class="detail">
      <h1>
        Task {task.id} <Badge value={task.running ? 'running' : task.status} />
      </h1>
      <p>
        {task.description} · group <a href={href('groups', task.group)}>{task.group}</a>
        {task.chat ? ` → ${task.chat}` : ''}
      </p>
      <p class="muted">
        Next: {task.nextRunAt ? `${when(task.nextRunAt, task.timezone)} (${task.timezone})` : '—'}
      </p>
      <div class="row wrap">
        {task.status === 'active' ? <Action run={act('pause')}>Pause</Action> : null}
        {task.status === 'paused' ? <Action run={act('resume')}>Resume</Action> : null}
        <Action run={act('run')} testid="task-run-now">
          Run now
        </Action>
        <Action run={async () => setEditing(!editing)}>{editing ? 'Close editor' : 'Edit'}</Action>
        {task.status === 'active' || task.status === 'paused' ? (
          <Action kind="danger" run={act('cancel')}>
            Cancel
          </Action>
        ) : (
          <Action
            kind="danger"
            run={async () => {
              await del(`/api/tasks/${enc(task.id)}`);
              onChange();
              navigate('/tasks');
            }}
          >
            Delete
          </Action>
        )}
      </div>
      {editing ? (
        <Section title="Edit">
          <TaskForm
            task={task}
            groups={groups}
            onDone={() => {
              setEditing(false);
              onChange();
            }}
          />
        </Section>
      ) : null}
      <Section title="Prompt">
        <Markdown text={task.prompt} />
      </Section>
      <Section title="History">
        <History task={task} />
      </Section>
    </div>
  );
}

export function TasksView({ id }: { id?: string }) {
  const key = useTaskRunsKey();
  const tasks = useLoad((s) => get<TaskView[]>('/api/tasks', s), [key]);
  const groups = useLoad((s) => get<Group[]>('/api/groups', s), []);
  // Next fire times move on their own: refresh once a minute as well.
  useEffect(() => {
    const t = setInterval(tasks.reload, 60_000);
    return () => clearInterval(t);
  }, [tasks.reload]);
  const list = tasks.data ?? [];
  const task = list.find((t) => t.id === id);
  return (
    <div class="split">
      <div class="list-pane">
        <a
          class={`row-link ${id === 'new' ? 'on' : ''}`}
          href={href('tasks', 'new')}
          data-testid="task-new"
        >
          <strong>+ New task</strong>
        </a>
        <ErrorNote error={tasks.error} />
        {list.map((t) => (
          <a
            class={`row-link ${t.id === id ? 'on' : ''}`}
            href={href('tasks', t.id)}
            data-testid="task-row"
          >
            <div class="row">
              <strong>{t.id}</strong> <Badge value={t.running ? 'running' : t.status} />
            </div>
            <div class="muted small">
              {t.description} · next {t.nextRunAt ? when(t.nextRunAt, t.timezone) : '—'}
            </div>
          </a>
        ))}
        {!list.length && !tasks.loading ? <Empty>No tasks yet.</Empty> : null}
      </div>
      {id === 'new' ? (
        <div class="detail">
          <h1>New task</h1>
          <TaskForm
            groups={groups.data ?? []}
            onDone={(t) => {
              tasks.reload();
              navigate(`/tasks/${t.id}`);
            }}
          />
        </div>
      ) : task ? (
        <TaskDetail task={task} groups={groups.data ?? []} onChange={tasks.reload} />
      ) : (
        <div class="detail muted">
          {tasks.loading ? <Loading what="tasks" /> : <p>Pick a task, or create one.</p>}
        </div>
      )}
    </div>
  );
}
