/** The token: from the link's fragment (once), then from this browser's storage. */
const TOKEN_KEY = 'clawpod-token';

export function takeTokenFromUrl(): void {
  const frag = new URLSearchParams(location.hash.slice(1));
  const token = frag.get('token');
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  // The token leaves the address bar (and the history) at once.
  history.replaceState(null, '', '/#/chat');
}

export const getToken = (): string | null => localStorage.getItem(TOKEN_KEY);
export const setToken = (t: string): void => localStorage.setItem(TOKEN_KEY, t.trim());
export const forgetToken = (): void => localStorage.removeItem(TOKEN_KEY);

/** An API error with the server's own words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const unauthorized = new Set<Listener>();
/** Called when the API refuses the token (401): the app shows how to get a new one. */
export const onUnauthorized = (fn: Listener): (() => void) => {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
};

export const authHeaders = (): Record<string, string> => ({
  authorization: `Bearer ${getToken() ?? ''}`,
});

/** One API call; JSON in and out; errors carry the server's message. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (res.status === 401) unauthorized.forEach((fn) => fn());
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, 'bad_answer', `the daemon answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

export const get = <T>(path: string, signal?: AbortSignal) =>
  api<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** Fetches a file with the token and hands it to the browser as a download. */
export async function download(path: string, name: string): Promise<void> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, 'download', `download failed (HTTP ${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Whether an error is just an aborted request (switching views): never shown. */
export const isAbort = (e: unknown): boolean =>
  e instanceof DOMException && e.name === 'AbortError';

export const enc = encodeURIComponent;
