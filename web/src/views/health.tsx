import { useEffect, useState } from 'preact/hooks';
import { enc, get, post } from '../api.js';
import { ago, when } from '../format.js';
import type { DaemonStatus, DeadLetter, DoctorFinding, EgressRefusal } from '../types.js';
import { Action, Badge, Empty, ErrorNote, Loading, Section, useLoad } from '../ui.js';

function Channels({ s }: { s: DaemonStatus }) {
  if (!s.channels.length) return <Empty>No channels beyond the web chat are configured.</Empty>;
  return (
    <ul class="plain">
      {s.channels.map((c) => (
        <li class="channel" data-testid="channel">
          <div class="row">
            <Badge value={c.connected ? 'connected' : 'down'} /> <strong>{c.name}</strong>
            {c.lastEventAt ? <span class="muted">last event {ago(c.lastEventAt)}</span> : null}
          </div>
          {c.lastError ? <p class="error small">{c.lastError}</p> : null}
          {c.pairing ? (
            <div class="pairing">
              <p>Pair this device: WhatsApp → Linked devices → Link a device, then scan:</p>
              {c.pairing.qrText ? <pre class="qr">{c.pairing.qrText}</pre> : null}
              {c.pairing.code ? (
                <p>
                  or enter the code <strong>{c.pairing.code}</strong>
                </p>
              ) : null}
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function DeadLetters({ onChange }: { onChange: () => void }) {
  const dl = useLoad((s) => get<DeadLetter[]>('/api/deadletters', s), []);
  if (dl.error) return <ErrorNote error={dl.error} />;
  if (!dl.data) return <Loading what="dead letters" />;
  if (!dl.data.length) return <Empty>No dead letters: nothing failed for good.</Empty>;
  const decide = (d: DeadLetter, what: 'retry' | 'discard') => async () => {
    await post(`/api/deadletters/${enc(String(d.id))}/${what}`);
    dl.reload();
    onChange();
  };
  return (
    <ul class="plain">
      {dl.data.map((d) => (
        <li class="dead" data-testid="dead-letter">
          <div class="row wrap">
            <strong>#{d.id}</strong> <Badge value={d.kind} /> <span>{d.group ?? ''}</span>{' '}
            <span class="muted">{d.chatId ?? ''}</span>
            <span class="muted">{when(d.createdAt)}</span>
          </div>
          <p class="error small">{d.error}</p>
          <div class="row">
            <Action kind="primary" testid="dead-retry" run={decide(d, 'retry')}>
              Retry
            </Action>
            <Action kind="danger" run={decide(d, 'discard')}>
              Discard
            </Action>
          </div>
        </li>
      ))}
    </ul>
  );
}

function Doctor() {
  const [run, setRun] = useState(0);
  const d = useLoad(
    (s) => (run ? get<DoctorFinding[]>('/api/doctor', s) : Promise.resolve(null)),
    [run],
  );
  return (
    <div>
      <div class="row">
        <button
          class="btn"
          data-testid="doctor-run"
          onClick={() => setRun(run + 1)}
          disabled={d.loading && run > 0}
        >
          {run ? (d.loading ? 'Checking…' : 'Check again') : 'Run the checks'}
        </button>
      </div>
      <ErrorNote error={d.error} />
      {d.data ? (
        <ul class="plain doctor">
          {d.data.map((f) => (
            <li class={`finding ${f.level}`}>
              <span class="mark">{f.level === 'ok' ? '✓' : f.level === 'warn' ? '!' : '✗'}</span>{' '}
              {f.title}
              {f.fix && f.level !== 'ok' ? <div class="muted small">fix: {f.fix}</div> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function Refusals() {
  const r = useLoad((s) => get<EgressRefusal[]>('/api/egress/refusals', s), []);
  if (r.error) return <ErrorNote error={r.error} />;
  const list = [...(r.data ?? [])].reverse();
  if (!list.length) return <Empty>No egress refused since the daemon started.</Empty>;
  return (
    <ul class="plain">
      {list.map((x) => (
        <li>
          <div class="row wrap">
            <strong>{x.host}</strong>{' '}
            <span class="muted">
              group {x.group} · {ago(x.at)}
            </span>
          </div>
          <p class="muted small">
            {x.reason} — to allow it, add <code>{x.host.replace(/:443$/, '')}</code> under{' '}
            <code>egress.groups.{x.group}</code> in <code>config.yaml</code> and restart.
          </p>
        </li>
      ))}
    </ul>
  );
}

export function HealthView() {
  const st = useLoad((s) => get<DaemonStatus>('/api/status', s), []);
  useEffect(() => {
    const t = setInterval(st.reload, 5000);
    return () => clearInterval(t);
  }, [st.reload]);
  const s = st.data;
  return (
    <div class="stack">
      <ErrorNote error={st.error} />
      {s ? (
        <>
          <Section title="Daemon">
            <p>
              v{s.daemon.version} · up since {when(s.daemon.startedAt)} · sandbox runtime{' '}
              <strong>{s.runtime.selected ?? 'none'}</strong>
            </p>
            <details>
              <summary class="muted small">why this runtime, and what it enforces</summary>
              <p class="muted small">{s.runtime.why}</p>
            </details>
            <p class="muted">
              harnesses {s.harnesses.join(', ')} · queue {s.queue.running} running,{' '}
              {s.queue.waiting} waiting, {s.queue.backoff} in backoff
            </p>
            <p data-testid="outbox">
              Outbox: {s.outbox.pending ?? 0} pending, {s.outbox.sending ?? 0} sending,{' '}
              {s.outbox.dead ?? 0} dead
            </p>
          </Section>
          <Section title="Channels">
            <Channels s={s} />
          </Section>
        </>
      ) : (
        <Loading what="status" />
      )}
      <Section title="Dead letters">
        <DeadLetters onChange={st.reload} />
      </Section>
      <Section title="Egress refusals">
        <Refusals />
      </Section>
      <Section title="Doctor">
        <Doctor />
      </Section>
    </div>
  );
}
