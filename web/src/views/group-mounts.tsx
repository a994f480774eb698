import { useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import type { Group, MountResult, MountStatus } from '../types.js';
import { Action, Empty, ErrorNote, useLoad } from '../ui.js';

const modeLabel = (m: MountStatus): string =>
  m.mode === 'refused' ? 'refused' : m.mode === 'rw' ? 'read-write' : 'read-only';

/**
 * A group's host folders at /workspace/extra/<name>: each with what its next run gets
 * (read-write, read-only with why, or refused with the reason), remove, and add one (checked
 * against the mount allowlist by the daemon at once).
 */
export function Mounts({ g, onChanged }: { g: Group; onChanged: (g: Group) => void }) {
  const status = useLoad(
    (s) => get<MountStatus[]>(`/api/groups/${enc(g.folder)}/mounts`, s),
    [g.folder, JSON.stringify(g.mounts)],
  );
  const [hostPath, setHostPath] = useState('');
  const [name, setName] = useState('');
  const [rw, setRw] = useState(false);
  const [notes, setNotes] = useState<string[]>([]);
  const list = status.data ?? [];
  return (
    <div>
      {status.error ? <ErrorNote error={status.error} /> : null}
      {list.length ? (
        <ul class="plain">
          {list.map((m) => (
            <li data-testid="mount-row">
              <div class="row wrap">
                <code class="grow">
                  {m.hostPath} → {m.sandboxPath}
                </code>
                <span class={`badge b-${m.mode === 'refused' ? 'error' : 'idle'}`}>
                  {modeLabel(m)}
                </span>
                <Action
                  kind="danger"
                  run={async () =>
                    onChanged(
                      await del<Group>(`/api/groups/${enc(g.folder)}/mounts/${enc(m.name)}`),
                    )
                  }
                >
                  Remove
                </Action>
              </div>
              {[...m.notes, ...(m.error ? [m.error] : [])].map((n) => (
                <p class={`small ${m.error === n ? 'error' : 'muted'}`}>{n}</p>
              ))}
            </li>
          ))}
        </ul>
      ) : status.loading ? null : (
        <Empty>No host folders mounted.</Empty>
      )}
      <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
        <input
          data-testid="mount-path"
          placeholder="host folder, e.g. ~/projects/app"
          value={hostPath}
          onInput={(e) => setHostPath(e.currentTarget.value)}
        />
        <input
          placeholder="name (default: the folder's)"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label class="row small">
          <input
            type="checkbox"
            data-testid="mount-rw"
            checked={rw}
            onChange={(e) => setRw(e.currentTarget.checked)}
          />{' '}
          read-write
        </label>
        <Action
          testid="mount-add"
          run={async () => {
            const r = await post<MountResult>(`/api/groups/${enc(g.folder)}/mounts`, {
              hostPath: hostPath.trim(),
              readOnly: !rw,
              ...(name.trim() ? { name: name.trim() } : {}),
            });
            setNotes(r.notes);
            onChanged(r.group);
            setHostPath('');
            setName('');
          }}
        >
          Mount
        </Action>
      </form>
      {notes.map((n) => (
        <p class="small muted">{n}</p>
      ))}
      <p class="muted small">
        Folders must lie under an allowed root of the mount allowlist (
        <code>~/.config/clawpod/mount-allowlist.json</code>); they are checked again at every run,
        and a change restarts the group's live session.
      </p>
    </div>
  );
}
