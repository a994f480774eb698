import { useState } from 'preact/hooks';
import { del, download, enc, get, patch, post, put } from '../api.js';
import { href, navigate } from '../route.js';
import type { ChatOverview, FolderListing, Group, MemoryFile } from '../types.js';
import { Action, Empty, ErrorNote, Icon, Loading, Section, useLoad } from '../ui.js';
import { Mounts } from './group-mounts.js';

function GroupList({ groups, current }: { groups: Group[]; current?: string }) {
  const [name, setName] = useState('');
  const [chat, setChat] = useState('');
  return (
    <div class="list-pane">
      {groups.map((g) => (
        <a class={`row-link ${g.folder === current ? 'on' : ''}`} href={href('groups', g.folder)}>
          <strong>{g.folder}</strong>
          {g.isMain ? <span class="badge">main</span> : null}
          <span class="muted">
            {' '}
            {g.chats.length} chat{g.chats.length === 1 ? '' : 's'} ·{' '}
            {g.harness ?? 'default harness'}
          </span>
        </a>
      ))}
      <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
        <input
          placeholder="new group name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <input
          placeholder="chat (optional), e.g. tg:123"
          value={chat}
          onInput={(e) => setChat(e.currentTarget.value)}
        />
        <Action
          kind="primary"
          run={async () => {
            const g = await post<Group>('/api/groups', {
              name: name.trim(),
              chats: chat.trim() ? [chat.trim()] : [],
            });
            setName('');
            setChat('');
            navigate(`/groups/${g.folder}`);
          }}
        >
          Add group
        </Action>
      </form>
    </div>
  );
}

/** The settings form: every field a PATCH /api/groups/:name takes that a person sets by hand. */
function Settings({ g, onSaved }: { g: Group; onSaved: (g: Group) => void }) {
  const [f, setF] = useState({
    harness: g.harness ?? '',
    model: g.model ?? '',
    runtime: g.runtime ?? '',
    command: g.command ?? '',
    trigger: g.trigger ?? '',
    requiresTrigger: g.requiresTrigger,
    senders:
      g.senders === null ? '' : g.senders.allow === 'all' ? 'all' : g.senders.allow.join(', '),
    warm: g.warm,
    threadReplies: g.threadReplies,
    runTimeoutMin: g.limits.runTimeoutMs ? String(g.limits.runTimeoutMs / 60_000) : '',
    memoryMb: g.limits.memoryMb ? String(g.limits.memoryMb) : '',
  });
  const [saved, setSaved] = useState(false);
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement;
    setF({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value });
    setSaved(false);
  };
  const save = async () => {
    const limits: Record<string, number> = { ...g.limits } as Record<string, number>;
    if (f.runTimeoutMin) limits.runTimeoutMs = Math.round(Number(f.runTimeoutMin) * 60_000);
    else delete limits.runTimeoutMs;
    if (f.memoryMb) limits.memoryMb = Number(f.memoryMb);
    else delete limits.memoryMb;
    const senders = f.senders.trim();
    const body = {
      harness: f.harness || null,
      model: f.model.trim() || null,
      runtime: f.runtime || null,
      command: f.command.trim() || null,
      trigger: f.trigger.trim() || null,
      requiresTrigger: f.requiresTrigger,
      senders: !senders
        ? null
        : {
            allow: senders === 'all' ? 'all' : senders.split(/[\s,]+/).filter(Boolean),
            others: g.senders?.others ?? 'store',
          },
      warm: f.warm,
      threadReplies: f.threadReplies,
      limits,
    };
    onSaved(await patch<Group>(`/api/groups/${enc(g.folder)}`, body));
    setSaved(true);
  };
  return (
    <form class="form grid2" onSubmit={(e) => e.preventDefault()} data-testid="group-settings">
      <label>
        Harness
        <select value={f.harness} onChange={set('harness')}>
          <option value="">default</option>
          <option value="claude">claude</option>
          <option value="codex">codex</option>
          <option value="command">command</option>
        </select>
      </label>
      <label>
        Model
        <input value={f.model} placeholder="default" onInput={set('model')} />
      </label>
      <label>
        Sandbox runtime
        <select value={f.runtime} onChange={set('runtime')}>
          <option value="">default</option>
          {['auto', 'bubblewrap', 'podman', 'docker', 'apple', 'none'].map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        Trigger word
        <input value={f.trigger} placeholder="default (@assistant name)" onInput={set('trigger')} />
      </label>
      {f.harness === 'command' ? (
        <label class="wide">
          Command (prompt on stdin, reply on stdout)
          <input value={f.command} onInput={set('command')} />
        </label>
      ) : null}
      <label class="wide">
        Who may wake it (sender ids, comma separated; "all"; empty: everyone in its chats)
        <input value={f.senders} onInput={set('senders')} />
      </label>
      <label>
        Run time limit (minutes)
        <input
          inputMode="decimal"
          value={f.runTimeoutMin}
          placeholder="default"
          onInput={set('runTimeoutMin')}
        />
      </label>
      <label>
        Memory (MB)
        <input
          inputMode="numeric"
          value={f.memoryMb}
          placeholder="default"
          onInput={set('memoryMb')}
        />
      </label>
      <label class="check">
        <input type="checkbox" checked={f.requiresTrigger} onChange={set('requiresTrigger')} />{' '}
        needs the trigger word
      </label>
      <label class="check">
        <input type="checkbox" checked={f.warm} onChange={set('warm')} /> keep a session warm
      </label>
      <label class="check">
        <input type="checkbox" checked={f.threadReplies} onChange={set('threadReplies')} /> reply in
        thread / quote
      </label>
      <div class="wide row">
        <Action kind="primary" run={save} testid="save-settings">
          Save settings
        </Action>
        {saved ? <span class="ok">saved</span> : null}
      </div>
      <p class="wide muted small">
        Egress hosts and budgets are set in <code>config.yaml</code> (
        <code>egress.groups.{g.folder}</code>); see the Health view for refused hosts.
      </p>
    </form>
  );
}

function Chats({ g, onChanged }: { g: Group; onChanged: (g: Group) => void }) {
  const overview = useLoad((s) => get<ChatOverview[]>('/api/chats/overview', s), [g.chats.join()]);
  const [chat, setChat] = useState('');
  const unbound = (overview.data ?? []).filter((c) => !c.group);
  return (
    <div>
      {g.chats.length ? (
        <ul class="plain">
          {g.chats.map((c) => (
            <li class="row">
              <a href={href('chat', c)}>{c}</a>
              <Action
                kind="danger"
                run={async () =>
                  onChanged(await del<Group>(`/api/groups/${enc(g.folder)}/chats/${enc(c)}`))
                }
              >
                Unbind
              </Action>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No chats bound: the group answers nothing until one is.</Empty>
      )}
      <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
        <input
          list="unbound-chats"
          placeholder="chat id, e.g. tg:12345"
          value={chat}
          onInput={(e) => setChat(e.currentTarget.value)}
        />
        <datalist id="unbound-chats">
          {unbound.map((c) => (
            <option value={c.jid}>{c.name ?? c.jid}</option>
          ))}
        </datalist>
        <Action
          run={async () => {
            onChanged(
              await post<Group>(`/api/groups/${enc(g.folder)}/chats`, { chat: chat.trim() }),
            );
            setChat('');
          }}
        >
          Bind
        </Action>
      </form>
      {unbound.length ? (
        <p class="muted small">Unbound chats seen: {unbound.map((c) => c.jid).join(', ')}</p>
      ) : null}
    </div>
  );
}

function MemoryEditor({ g }: { g: Group }) {
  const mem = useLoad((s) => get<MemoryFile>(`/api/groups/${enc(g.folder)}/memory`, s), [g.folder]);
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  if (mem.loading && !mem.data) return <Loading what="memory" />;
  if (!mem.data) return <ErrorNote error={mem.error} />;
  const value = text ?? mem.data.text;
  return (
    <div class="memory">
      <p class="muted small">
        {mem.data.file} in the group's folder: what the agent remembers and follows.{' '}
        {mem.data.exists ? '' : '(not created yet)'}
      </p>
      <textarea
        class="code"
        rows={12}
        value={value}
        data-testid="memory-text"
        onInput={(e) => {
          setText(e.currentTarget.value);
          setSaved(false);
        }}
      />
      <div class="row">
        <Action
          kind="primary"
          testid="save-memory"
          disabled={text === null || text === mem.data.text}
          run={async () => {
            mem.set(
              await put<MemoryFile>(`/api/groups/${enc(g.folder)}/memory`, {
                file: mem.data!.file,
                text: value,
              }),
            );
            setText(null);
            setSaved(true);
          }}
        >
          Save {mem.data.file}
        </Action>
        {saved ? (
          <span class="ok" data-testid="memory-saved">
            saved
          </span>
        ) : null}
      </div>
    </div>
  );
}

function Folder({ g }: { g: Group }) {
  const [path, setPath] = useState('');
  const [preview, setPreview] = useState<{ name: string; text: string } | null>(null);
  const list = useLoad(
    (s) => get<FolderListing>(`/api/groups/${enc(g.folder)}/files?path=${enc(path)}`, s),
    [g.folder, path],
  );
  const open = async (name: string) => {
    const rel = path ? `${path}/${name}` : name;
    const res = await fetch(`/api/groups/${enc(g.folder)}/files/content?path=${enc(rel)}`, {
      headers: { authorization: `Bearer ${localStorage.getItem('clawpod-token') ?? ''}` },
    });
    if (!res.ok)
      throw new Error(((await res.json()) as { error: { message: string } }).error.message);
    const buf = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.slice(0, 200_000));
    if (buf.includes(0))
      return download(`/api/groups/${enc(g.folder)}/files/content?path=${enc(rel)}`, name);
    setPreview({ name: rel, text });
  };
  return (
    <div class="folder">
      <div class="row crumbs">
        <button class="link-btn" onClick={() => setPath('')}>
          {g.folder}/
        </button>
        {path
          .split('/')
          .filter(Boolean)
          .map((part, i, all) => (
            <button class="link-btn" onClick={() => setPath(all.slice(0, i + 1).join('/'))}>
              {part}/
            </button>
          ))}
      </div>
      <ErrorNote error={list.error} />
      <ul class="plain files-list">
        {(list.data?.entries ?? []).map((e) => (
          <li>
            {e.type === 'dir' ? (
              <button class="link-btn" onClick={() => setPath(path ? `${path}/${e.name}` : e.name)}>
                <Icon name="folder" /> {e.name}/
              </button>
            ) : e.type === 'file' ? (
              <Action kind="link" run={() => open(e.name)}>
                <Icon name="file" /> {e.name}
              </Action>
            ) : (
              <span class="muted">
                {e.name} ({e.type}: not followed)
              </span>
            )}
          </li>
        ))}
      </ul>
      {preview ? (
        <div class="preview">
          <div class="row">
            <strong>{preview.name}</strong>
            <button class="icon-btn" title="close" onClick={() => setPreview(null)}>
              <Icon name="x" />
            </button>
          </div>
          <pre>{preview.text}</pre>
        </div>
      ) : null}
    </div>
  );
}

export function GroupsView({ name }: { name?: string }) {
  const groups = useLoad((s) => get<Group[]>('/api/groups', s), []);
  const list = groups.data ?? [];
  const g = list.find((x) => x.folder === (name ?? 'main')) ?? list[0];
  const replace = (next: Group) =>
    groups.set(list.map((x) => (x.folder === next.folder ? next : x)));
  return (
    <div class="split">
      {groups.error ? <ErrorNote error={groups.error} /> : null}
      <GroupList groups={list} current={g?.folder} />
      {g ? (
        <div class="detail" key={g.folder}>
          <h1>
            Group {g.folder} {g.isMain ? <span class="badge">main</span> : null}
          </h1>
          <Section title="Settings">
            <Settings g={g} onSaved={replace} />
          </Section>
          <Section title="Bound chats">
            <Chats g={g} onChanged={replace} />
          </Section>
          <Section title="Host folders (mounts)">
            <Mounts g={g} onChanged={replace} />
          </Section>
          <Section title="Memory">
            <MemoryEditor g={g} />
          </Section>
          <Section title="Folder (read-only)">
            <Folder g={g} />
          </Section>
          {!g.isMain ? (
            <Section title="Remove">
              <Action
                kind="danger"
                run={async () => {
                  if (
                    !confirm(
                      `Remove group ${g.folder}? Its chats are unbound; its folder stays on disk.`,
                    )
                  )
                    return;
                  await del(`/api/groups/${enc(g.folder)}`);
                  groups.reload();
                  navigate('/groups');
                }}
              >
                Remove group
              </Action>
            </Section>
          ) : null}
        </div>
      ) : groups.loading ? (
        <Loading what="groups" />
      ) : null}
    </div>
  );
}
