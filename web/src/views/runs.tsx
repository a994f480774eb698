import { useEffect } from 'preact/hooks';
import { enc, get, post } from '../api.js';
import { ago, duration, runLabel, tokens, usd, when } from '../format.js';
import { live, useLive } from '../live.js';
import { Markdown } from '../markdown.js';
import { href } from '../route.js';
import type { AgentSessionRecord, RunRecord, RunTranscript } from '../types.js';
import { Action, Badge, Empty, ErrorNote, Loading, Section, useLoad } from '../ui.js';

function RunRow({ r }: { r: RunRecord }) {
  const label = runLabel(r.status, r.error);
  const end = r.endedAt ?? Date.now();
  return (
    <a class="run-row" href={href('runs', r.id)} data-testid="run-row" data-status={label}>
      <Badge value={label} />
      <span class="grow">
        <strong>{r.group}</strong>{' '}
        <span class="muted">
          {r.kind === 'task'
            ? `task ${r.taskId ?? ''}`
            : r.kind === 'delegate'
              ? `↳ delegate of ${r.parentRunId ?? '?'}`
              : r.chatId}
        </span>
      </span>
      <span class="muted">{when(r.startedAt)}</span>
      <span class="num">{duration(end - r.startedAt)}</span>
      {r.usage.inputTokens || r.usage.outputTokens ? (
        <span class="num">
          {tokens((r.usage.inputTokens ?? 0) + (r.usage.outputTokens ?? 0))} tok
        </span>
      ) : null}
      {r.usage.costUsd !== undefined ? <span class="num">{usd(r.usage.costUsd)}</span> : null}
    </a>
  );
}

function Sessions() {
  const s = useLoad((sig) => get<AgentSessionRecord[]>('/api/sessions?limit=20', sig), []);
  useEffect(() => {
    const t = setInterval(s.reload, 5000);
    return () => clearInterval(t);
  }, [s.reload]);
  const list = s.data ?? [];
  const liveOnes = list.filter((x) => x.state !== 'closed');
  return (
    <Section title="Agent sessions (warm processes)">
      <p class="muted small">
        A session waits, warm, for the next turn of its lane; it is not a run and costs nothing
        while idle.
      </p>
      <ErrorNote error={s.error} />
      {liveOnes.length ? (
        <ul class="plain">
          {liveOnes.map((x) => (
            <li class="row" data-testid="session-row">
              <Badge value={x.state} /> <strong>{x.group}</strong>{' '}
              <span class="muted">
                {x.lane !== x.group ? x.lane : ''} {x.harness}
              </span>
              <span class="muted">
                {x.turns} turn{x.turns === 1 ? '' : 's'} · active {ago(x.lastActiveAt)}
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No live sessions.</Empty>
      )}
      {list.some((x) => x.state === 'closed') ? (
        <details>
          <summary class="muted">recently ended</summary>
          <ul class="plain small">
            {list
              .filter((x) => x.state === 'closed')
              .map((x) => (
                <li>
                  {x.group} · {x.harness} · {x.turns} turns · ended{' '}
                  {x.endedAt ? ago(x.endedAt) : ''}: {x.endReason}
                </li>
              ))}
          </ul>
        </details>
      ) : null}
    </Section>
  );
}

function RunDetail({ id }: { id: string }) {
  const l = useLive();
  const liveRun = l.runs.get(id);
  const t = useLoad(
    (s) => get<RunTranscript>(`/api/runs/${enc(id)}/transcript`, s),
    [id, liveRun?.status],
  );
  if (!t.data) return t.error ? <ErrorNote error={t.error} /> : <Loading what="the run" />;
  const run = liveRun ?? t.data.run;
  const p = l.progress.get(id);
  const label = runLabel(run.status, run.error);
  return (
    <div class="detail" data-testid="run-detail">
      <h1>
        Run <code>{run.id}</code> <Badge value={label} />
      </h1>
      <p class="muted">
        {run.group} ·{' '}
        {run.kind === 'task' ? (
          <a href={href('tasks', run.taskId ?? '')}>task {run.taskId}</a>
        ) : run.kind === 'delegate' && run.parentRunId ? (
          <a href={href('runs', run.parentRunId)} data-testid="run-parent">
            delegated by {run.parentRunId}
          </a>
        ) : (
          <a href={href('chat', run.chatId ?? '')}>{run.chatId}</a>
        )}{' '}
        · attempt {run.attempt} · {when(run.startedAt)} ·{' '}
        {duration((run.endedAt ?? Date.now()) - run.startedAt)} · in {tokens(run.usage.inputTokens)}{' '}
        / out {tokens(run.usage.outputTokens)} tokens · {usd(run.usage.costUsd)}
      </p>
      {run.status === 'running' ? (
        <div class="row">
          <Action kind="danger" testid="run-stop" run={() => post(`/api/runs/${enc(run.id)}/stop`)}>
            Stop this run
          </Action>
        </div>
      ) : null}
      {run.error ? <p class="error">{run.error}</p> : null}
      <Section title="Input">
        {t.data.input.length ? (
          t.data.input.map((m) => (
            <div class="msg in">
              <div class="meta">
                {m.sender} · {when(m.ts)}
              </div>
              <Markdown text={m.text} />
            </div>
          ))
        ) : (
          <Empty>
            {run.kind === 'task' ? 'The task prompt (see the task).' : 'No input recorded.'}
          </Empty>
        )}
      </Section>
      <Section title="Steps">
        {t.data.steps.length ? (
          <ol class="steps">
            {t.data.steps.map((s) => (
              <li class="tool">
                <span class="muted">{new Date(s.at).toLocaleTimeString()}</span>{' '}
                <strong>{s.name}</strong> {s.summary}
              </li>
            ))}
          </ol>
        ) : (
          <Empty>
            {run.status === 'running'
              ? 'Tool calls are listed here when the turn ends.'
              : 'No tool calls recorded.'}
          </Empty>
        )}
        {p?.text && run.status === 'running' ? (
          <div class="msg out working">
            <Markdown text={p.text} />
          </div>
        ) : null}
      </Section>
      <Section title="Replies">
        {t.data.replies.length ? (
          t.data.replies.map((r) => (
            <div class="msg out">
              <div class="meta">
                <Badge value={r.status} /> {r.attempts > 1 ? `${r.attempts} attempts` : ''}{' '}
                {r.error ?? ''}
              </div>
              <Markdown text={r.text} />
            </div>
          ))
        ) : (
          <Empty>No replies.</Empty>
        )}
      </Section>
    </div>
  );
}

export function RunsView({ id }: { id?: string }) {
  const l = useLive();
  const runs = useLoad((s) => get<RunRecord[]>('/api/runs?limit=100', s), []);
  useEffect(() => {
    if (runs.data) live.seed(runs.data);
  }, [runs.data]);
  const all = [...l.runs.values()].sort((a, b) => b.startedAt - a.startedAt).slice(0, 100);
  return (
    <div class="split">
      <div class="list-pane wide-list">
        <Sessions />
        <Section title="Runs">
          <ErrorNote error={runs.error} />
          {all.length ? (
            all.map((r) => <RunRow r={r} />)
          ) : runs.loading ? (
            <Loading what="runs" />
          ) : (
            <Empty>No runs yet.</Empty>
          )}
        </Section>
      </div>
      {id ? <RunDetail id={id} /> : null}
    </div>
  );
}
