import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, getToken, onUnauthorized, takeTokenFromUrl } from './api.js';
import { useLive } from './live.js';
import { navigate, useRoute } from './route.js';
import { ApprovalsView } from './views/approvals.js';
import { ChatView } from './views/chat.js';
import { GroupsView } from './views/groups.js';
import { HealthView } from './views/health.js';
import { NoToken } from './views/no-token.js';
import { RunsView } from './views/runs.js';
import { TasksView } from './views/tasks.js';
import { UsageView } from './views/usage.js';
import { Icon, type IconName } from './ui.js';

const VIEWS: Array<{ id: string; label: string; icon: IconName }> = [
  { id: 'chat', label: 'Chat', icon: 'chat' },
  { id: 'groups', label: 'Groups', icon: 'groups' },
  { id: 'tasks', label: 'Tasks', icon: 'tasks' },
  { id: 'runs', label: 'Runs', icon: 'runs' },
  { id: 'approvals', label: 'Approvals', icon: 'approvals' },
  { id: 'health', label: 'Health', icon: 'health' },
  { id: 'usage', label: 'Usage', icon: 'usage' },
];

function LinkBadge() {
  const l = useLive().link;
  const [, tick] = useState(0);
  useEffect(() => {
    if (l.name !== 'retrying') return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [l]);
  const text =
    l.name === 'live'
      ? 'live'
      : l.name === 'connecting'
        ? 'connecting…'
        : l.name === 'retrying'
          ? `offline: ${l.reason} — retrying`
          : `refused: ${l.reason}`;
  return (
    <span class={`link link-${l.name}`} title={text} data-testid="link-state">
      <span class="dot" />
      <span class="link-text">{text}</span>
    </span>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState(localStorage.getItem('clawpod-theme') ?? 'auto');
  useEffect(() => {
    if (theme === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    localStorage.setItem('clawpod-theme', theme);
  }, [theme]);
  const next = theme === 'auto' ? 'dark' : theme === 'dark' ? 'light' : 'auto';
  return (
    <button
      class="icon-btn"
      title={`theme: ${theme} (switch to ${next})`}
      onClick={() => setTheme(next)}
    >
      <Icon name={theme === 'dark' ? 'moon' : theme === 'light' ? 'sun' : 'auto'} />
    </button>
  );
}

function App() {
  const [token, setTokenState] = useState(getToken());
  const [refused, setRefused] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const live = useLive();
  const route = useRoute();
  useEffect(() => onUnauthorized(() => setRefused(true)), []);
  useEffect(() => {
    if (!token) return;
    live.start();
    return () => live.stop();
  }, [token]);
  // How many approvals wait: a badge on the tab, refreshed on every approval event.
  useEffect(() => {
    if (!token) return;
    get<unknown[]>('/api/approvals?status=pending').then(
      (list) => setWaiting(list.length),
      () => setWaiting(0),
    );
  }, [token, live.approvalsChanged]);
  if (!token || refused)
    return (
      <NoToken
        refused={refused}
        onToken={() => {
          setRefused(false);
          setTokenState(getToken());
        }}
      />
    );
  const views = VIEWS;
  const view = views.some((v) => v.id === route.view) ? route.view : 'chat';
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/chat">
          <span class="logo">◆</span> clawpod
        </a>
        <nav class="tabs" aria-label="views">
          {views.map((v) => (
            <a href={`#/${v.id}`} class={v.id === view ? 'on' : ''} data-testid={`nav-${v.id}`}>
              <Icon name={v.icon} />
              <span>{v.label}</span>
              {v.id === 'approvals' && waiting > 0 ? (
                <span class="badge" data-testid="approvals-waiting">
                  {waiting}
                </span>
              ) : null}
            </a>
          ))}
        </nav>
        <div class="top-right">
          <LinkBadge />
          <ThemeToggle />
        </div>
      </header>
      <main class={`view view-${view}`}>
        {view === 'chat' && <ChatView chat={route.arg} />}
        {view === 'groups' && <GroupsView name={route.arg} />}
        {view === 'tasks' && <TasksView id={route.arg} />}
        {view === 'runs' && <RunsView id={route.arg} />}
        {view === 'approvals' && <ApprovalsView />}
        {view === 'health' && <HealthView />}
        {view === 'usage' && <UsageView />}
      </main>
    </div>
  );
}

takeTokenFromUrl();
if (!location.hash.startsWith('#/')) navigate('/chat', true);
render(<App />, document.getElementById('app')!);
