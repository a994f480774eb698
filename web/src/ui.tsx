import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isAbort } from './api.js';

const PATHS = {
  chat: 'M4 5h16v10H9l-5 4z',
  groups:
    'M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 19c0-3 3-5 6-5s6 2 6 5m0-4.6c.6-.3 1.3-.4 2-.4 3 0 6 2 6 5',
  tasks: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 4v5l3 3',
  runs: 'M5 4l14 8-14 8z',
  approvals: 'M5 12l4 4 10-10',
  health: 'M3 12h4l3-7 4 14 3-7h4',
  usage: 'M5 20V10m7 10V4m7 16v-7',
  moon: 'M20 14A8 8 0 0 1 10 4a8 8 0 1 0 10 10z',
  sun: 'M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10zm0-5v2m0 16v2M4 12H2m20 0h-2M5 5l1.5 1.5m11 11L19 19M5 19l1.5-1.5m11-11L19 5',
  auto: 'M12 3a9 9 0 1 0 0 18zm0 0a9 9 0 0 1 0 18',
  send: 'M3 20l18-8L3 4v6l12 2-12 2z',
  stop: 'M7 7h10v10H7z',
  clip: 'M16 8l-6.5 6.5a2 2 0 0 0 3 3L19 11a4 4 0 0 0-6-6l-7 7a6 6 0 0 0 8.5 8.5L20 15',
  back: 'M15 5l-7 7 7 7',
  folder: 'M3 6h6l2 2h10v10H3z',
  file: 'M6 3h8l4 4v14H6zM14 3v4h4',
  x: 'M6 6l12 12M18 6L6 18',
} as const;
export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
      <path d={PATHS[name]} />
    </svg>
  );
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return 'the daemon did not answer (is it running?)';
  return e instanceof Error ? e.message : String(e);
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

/**
 * Loads `fn` now and whenever `deps` change; an older load is aborted (and never shown as an
 * error). `reload` loads again; `set` replaces the data locally.
 */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const ctl = useRef<AbortController>();
  const load = useCallback(() => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setState((s) => ({ ...s, loading: true }));
    fn(c.signal).then(
      (data) => !c.signal.aborted && setState({ data, loading: false }),
      (error: unknown) => {
        if (isAbort(error) || c.signal.aborted) return;
        setState((s) => ({ ...s, error, loading: false }));
      },
    );
  }, deps);
  useEffect(() => {
    load();
    return () => ctl.current?.abort();
  }, [load]);
  return {
    ...state,
    reload: load,
    set: (data: T) => setState({ data, loading: false }),
  };
}

/** A button that runs an async action, shows it is busy, and reports a failure beside it. */
export function Action(props: {
  run: () => Promise<unknown>;
  children: ComponentChildren;
  kind?: 'primary' | 'danger' | 'plain' | 'link';
  title?: string;
  testid?: string;
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <span class="action">
      <button
        class={`btn ${props.kind ?? 'plain'}`}
        disabled={busy || props.disabled}
        title={props.title}
        data-testid={props.testid}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await props.run();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {props.children}
      </button>
      {error ? <span class="error inline">{errorText(error)}</span> : null}
    </span>
  );
}

export function Badge({ value }: { value: string }) {
  return <span class={`badge b-${value.replace(/[^a-z]/g, '')}`}>{value}</span>;
}

export function Section(props: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>{props.title}</h2>
        {props.actions ? <div class="card-actions">{props.actions}</div> : null}
      </div>
      {props.children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty">{children}</p>;
}
