import { useEffect, useState } from 'preact/hooks';

/** `#/<view>/<arg>`: the view, and what it shows (a chat id, a group, a task, a run). */
export interface Route {
  view: string;
  arg: string | undefined;
}

export function parseRoute(hash = location.hash): Route {
  const [view = 'chat', ...rest] = hash.replace(/^#\/?/, '').split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { view: view || 'chat', arg: arg || undefined };
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', `#${path}`);
  else location.hash = path;
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export const href = (view: string, arg?: string): string =>
  `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ''}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
