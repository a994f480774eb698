import { enc, get, post } from '../api.js';
import { when } from '../format.js';
import type { Approval } from '../types.js';
import { Action, Empty, ErrorNote, Loading, Section, useLoad } from '../ui.js';

/**
 * The approvals inbox (shown once the daemon has `GET /api/approvals`): each ask in full, with
 * allow once / always / deny (`POST /api/approvals/:id {decision}`).
 */
export function ApprovalsView() {
  const a = useLoad((s) => get<Approval[]>('/api/approvals', s), []);
  const decide = (id: string, decision: 'once' | 'always' | 'deny') => async () => {
    await post(`/api/approvals/${enc(id)}`, { decision });
    a.reload();
  };
  return (
    <Section title="Approvals">
      <ErrorNote error={a.error} />
      {!a.data ? (
        <Loading what="approvals" />
      ) : !a.data.length ? (
        <Empty>Nothing waits for you.</Empty>
      ) : (
        a.data.map((x) => (
          <div class="approval">
            <p>
              <strong>{x.summary ?? x.kind ?? x.id}</strong>{' '}
              <span class="muted">
                {x.group ?? ''} {x.createdAt ? when(x.createdAt) : ''}
              </span>
            </p>
            <pre>{JSON.stringify(x.detail ?? x, null, 2)}</pre>
            <div class="row">
              <Action kind="primary" run={decide(x.id, 'once')}>
                Allow once
              </Action>
              <Action run={decide(x.id, 'always')}>Always</Action>
              <Action kind="danger" run={decide(x.id, 'deny')}>
                Deny
              </Action>
            </div>
          </div>
        ))
      )}
    </Section>
  );
}
