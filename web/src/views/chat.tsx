import { useEffect, useRef, useState } from 'preact/hooks';
import { download, enc, get, post } from '../api.js';
import { ago, when } from '../format.js';
import { live, useLive } from '../live.js';
import { Markdown } from '../markdown.js';
import { href, navigate } from '../route.js';
import type { ChatOverview, MessageView, RunRecord } from '../types.js';
import { ErrorNote, Icon, errorText, useLoad } from '../ui.js';

const ATTACHMENT =
  /^\[attachment: \/workspace\/group\/(attachments\/[^\s]+) \(([^,]+), (\d+) bytes\)\]$/;

interface Pending {
  name: string;
  mime: string;
  data: string;
  size: number;
}

/** A message: Markdown text, and its attachments as files to download. */
function Message({ m, group }: { m: MessageView; group: string | null }) {
  const files: Array<{ path: string; kind: string; size: number }> = [];
  const text = m.text
    .split('\n')
    .filter((line) => {
      const a = ATTACHMENT.exec(line.trim());
      if (a) files.push({ path: a[1]!, kind: a[2]!, size: Number(a[3]) });
      return !a;
    })
    .join('\n');
  return (
    <div class={`msg ${m.direction}`} data-testid={`msg-${m.direction}`} data-seq={m.seq}>
      <div class="meta">
        {m.sender} · {when(m.ts)}
      </div>
      {text.trim() ? <Markdown text={text} /> : null}
      {files.length ? (
        <div class="files">
          {files.map((f) => (
            <button
              class="file-chip"
              disabled={!group}
              onClick={() =>
                void download(
                  `/api/groups/${enc(group!)}/files/content?path=${enc(f.path)}`,
                  f.path.split('/').pop()!,
                )
              }
            >
              <Icon name="file" /> {f.path.split('/').pop()} <span class="muted">({f.kind})</span>
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** The run working on this chat: what it writes, its current tool step, and stop. */
function Working({ run }: { run: RunRecord }) {
  const l = useLive();
  const p = l.progress.get(run.id);
  const [error, setError] = useState<unknown>();
  const [asked, setAsked] = useState(false);
  return (
    <div class="msg out working" data-testid="working">
      <div class="meta">
        <span class="pulse" /> working…
        {p?.tool ? (
          <span class="tool" data-testid="tool-step">
            {' '}
            · {p.tool.name}
            {p.tool.summary ? `: ${p.tool.summary}` : ''}
          </span>
        ) : null}
        <button
          class="btn danger small"
          data-testid="stop"
          disabled={asked}
          onClick={async () => {
            setAsked(true);
            try {
              await post(`/api/runs/${enc(run.id)}/stop`);
            } catch (e) {
              setAsked(false);
              setError(e);
            }
          }}
        >
          <Icon name="stop" /> {asked ? 'stopping…' : 'Stop'}
        </button>
      </div>
      {p?.text ? (
        <div data-testid="partial">
          <Markdown text={p.text} />
        </div>
      ) : null}
      <ErrorNote error={error} />
    </div>
  );
}

function readFile(f: File): Promise<Pending> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onerror = () => reject(new Error(`could not read ${f.name}`));
    r.onload = () => {
      const url = String(r.result);
      resolve({
        name: f.name,
        mime: f.type || 'application/octet-stream',
        data: url.slice(url.indexOf(',') + 1),
        size: f.size,
      });
    };
    r.readAsDataURL(f);
  });
}

function Composer({ chat }: { chat: string }) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<Pending[]>([]);
  const [error, setError] = useState<unknown>();
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const send = async () => {
    if ((!text.trim() && !files.length) || sending) return;
    setSending(true);
    setError(undefined);
    try {
      await post('/api/messages', {
        chat,
        text,
        ...(files.length
          ? { attachments: files.map(({ name, mime, data }) => ({ name, mime, data })) }
          : {}),
      });
      setText('');
      setFiles([]);
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {files.length ? (
        <div class="files">
          {files.map((f, i) => (
            <span class="file-chip">
              <Icon name="file" /> {f.name}
              <button
                type="button"
                class="icon-btn"
                title="remove"
                onClick={() => setFiles(files.filter((_, j) => j !== i))}
              >
                <Icon name="x" />
              </button>
            </span>
          ))}
        </div>
      ) : null}
      {error ? <p class="error">{errorText(error)}</p> : null}
      <div class="composer-row">
        <button
          type="button"
          class="icon-btn"
          title="attach files"
          onClick={() => input.current?.click()}
        >
          <Icon name="clip" />
        </button>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          data-testid="attach"
          onChange={async (e) => {
            const list = [...(e.currentTarget.files ?? [])];
            e.currentTarget.value = '';
            try {
              const read = await Promise.all(list.map(readFile));
              const total = [...files, ...read].reduce((n, f) => n + f.size, 0);
              if (total > 700 * 1024)
                throw new Error('attachments over 700 KB: send large files another way');
              setFiles([...files, ...read]);
            } catch (err) {
              setError(err);
            }
          }}
        />
        <textarea
          rows={1}
          placeholder="Message"
          title="Enter sends; Shift+Enter starts a new line"
          value={text}
          data-testid="composer"
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button class="btn primary send" disabled={sending} title="send" data-testid="send">
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}

export function ChatView({ chat: asked }: { chat?: string }) {
  const chat = asked ?? 'web:main';
  const l = useLive();
  const chats = useLoad((s) => get<ChatOverview[]>('/api/chats/overview', s), []);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [error, setError] = useState<unknown>();
  const log = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    get<RunRecord[]>('/api/runs?limit=50').then(
      (r) => live.seed(r),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    const ctl = new AbortController();
    setMessages([]);
    setError(undefined);
    stick.current = true;
    // Live messages that arrive while the page loads are merged by seq (no gap, no duplicate).
    const early: MessageView[] = [];
    let loaded = false;
    const merge = (list: MessageView[]) =>
      setMessages((cur) => {
        const seen = new Set(cur.map((m) => m.seq));
        return [...cur, ...list.filter((m) => !seen.has(m.seq))].sort((a, b) => a.seq - b.seq);
      });
    const off = live.onMessage((m) => {
      if (m.chat !== chat) return;
      if (loaded) merge([m]);
      else early.push(m);
      if (m.direction === 'in' || m.direction === 'out') chats.reload();
    });
    get<MessageView[]>(`/api/chats/${enc(chat)}/recent?limit=200`, ctl.signal).then(
      (list) => {
        loaded = true;
        merge([...list, ...early]);
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setError(e);
      },
    );
    return () => {
      off();
      ctl.abort(); // a switch of chats aborts quietly: never shown as an error
    };
  }, [chat]);

  const running = [...l.runs.values()].filter((r) => r.chatId === chat && r.status === 'running');
  useEffect(() => {
    const el = log.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  const overview = chats.data ?? [];
  const current = overview.find((c) => c.jid === chat);
  const group = current?.group ?? null;
  return (
    <div class="chat-layout">
      <aside class="chat-list">
        <h2>Chats</h2>
        {overview.map((c) => (
          <a class={`chat-item ${c.jid === chat ? 'on' : ''}`} href={href('chat', c.jid)}>
            <div class="chat-name">
              {c.name ?? c.jid}
              {c.group ? (
                <span class="muted"> · {c.group}</span>
              ) : (
                <span class="badge">unbound</span>
              )}
            </div>
            {c.last ? (
              <div class="chat-last muted">
                {c.last.direction === 'out' ? '↩ ' : ''}
                {c.last.text.slice(0, 60)} · {ago(c.last.ts)}
              </div>
            ) : null}
          </a>
        ))}
      </aside>
      <section class="chat-main">
        <div class="chat-head">
          <select
            class="chat-pick"
            aria-label="chat"
            value={chat}
            onChange={(e) => navigate(`/chat/${encodeURIComponent(e.currentTarget.value)}`)}
          >
            {(overview.some((c) => c.jid === chat)
              ? overview
              : [{ jid: chat, name: null, group: null } as ChatOverview, ...overview]
            ).map((c) => (
              <option value={c.jid}>{c.name ? `${c.name} (${c.jid})` : c.jid}</option>
            ))}
          </select>
          <span class="muted chat-group">
            {group ? <a href={href('groups', group)}>group {group}</a> : 'not bound to a group'}
          </span>
        </div>
        <div
          class="log"
          ref={log}
          data-testid="log"
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          <ErrorNote error={error} />
          {!messages.length && !error ? (
            <p class="muted empty">No messages yet. Say hello.</p>
          ) : null}
          {messages.map((m) => (
            <Message key={m.seq} m={m} group={group} />
          ))}
          {running.map((r) => (
            <Working key={r.id} run={r} />
          ))}
        </div>
        <Composer chat={chat} />
      </section>
    </div>
  );
}
