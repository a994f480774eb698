import { useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { when } from '../format.js';
import { useLive } from '../live.js';
import type { Approval } from '../types.js';
import { Action, Empty, ErrorNote, Loading, Section, useLoad } from '../ui.js';

/** The buttons' words per kind: a budget's "always" raises the cap, its "deny" skips the run. */
function labels(kind: string): { once: string; always: string; deny: string } {
  if (kind === 'budget') return { once: 'Raise once', always: 'Raise the cap', deny: 'Skip' };
  if (kind === 'sender') return { once: 'Allow this message', always: 'Add sender', deny: 'Deny' };
  return { once: 'Allow once', always: 'Allow always', deny: 'Deny' };
}

function Card({ a, onDecided }: { a: Approval; onDecided: () => void }) {
  const l = labels(a.kind);
  const decide = (decision: 'once' | 'always' | 'deny') => async () => {
    await post(`/api/approvals/${a.id}`, { decision });
    onDecided();
  };
  return (
    <div class="approval" data-testid={`approval-${a.id}`}>
      <p>
        <strong>
          #{a.id} {a.kind}
        </strong>{' '}
        <span class="muted">
          group {a.group} · asked {when(a.requestedAt)} · no answer by {when(a.expiresAt)} is a no
        </span>
      </p>
      {a.taint.length ? <p class="warn small">Asks because {a.taint.join('; ')}.</p> : null}
      {/* The card is the full effect (every argument): shown as text, never as HTML. */}
      <pre>{a.card}</pre>
      <div class="row">
        <Action kind="primary" run={decide('once')} testid={`approve-once-${a.id}`}>
          {l.once}
        </Action>
        <Action run={decide('always')} testid={`approve-always-${a.id}`}>
          {l.always}
        </Action>
        <Action kind="danger" run={decide('deny')} testid={`approve-deny-${a.id}`}>
          {l.deny}
        </Action>
      </div>
    </div>
  );
}

function Decided({ list }: { list: Approval[] }) {
  if (!list.length) return <Empty>None decided yet.</Empty>;
  return (
    <ul class="plain">
      {list.map((a) => (
        <li>
          <strong>
            #{a.id} {a.kind}
          </strong>{' '}
          <span class="muted">
            {a.subject} · group {a.group} · {a.status}
            {a.decision ? ` (${a.decision})` : ''} by {a.decidedBy ?? 'expiry'} {when(a.decidedAt)}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The approvals inbox: each pending ask with its full effect (the card the chat got), allow
 * once / always / deny (`POST /api/approvals/:id {decision}`), refreshed on every `approval`
 * event; the latest decisions below it.
 */
export function ApprovalsView() {
  const live = useLive();
  const [done, setDone] = useState(0);
  const pending = useLoad(
    (s) => get<Approval[]>('/api/approvals?status=pending', s),
    [live.approvalsChanged, done],
  );
  const decided = useLoad(
    (s) => get<Approval[]>('/api/approvals?status=all&limit=20', s),
    [live.approvalsChanged, done],
  );
  const reload = () => setDone((n) => n + 1);
  return (
    <>
      <Section title="Waiting for you">
        <ErrorNote error={pending.error} />
        {!pending.data ? (
          <Loading what="approvals" />
        ) : !pending.data.length ? (
          <Empty>Nothing waits for you.</Empty>
        ) : (
          pending.data.map((a) => <Card a={a} onDecided={reload} />)
        )}
      </Section>
      <Section title="Decided">
        <ErrorNote error={decided.error} />
        {decided.data ? (
          <Decided list={decided.data.filter((a) => a.status !== 'pending')} />
        ) : (
          <Loading what="decisions" />
        )}
      </Section>
    </>
  );
}
