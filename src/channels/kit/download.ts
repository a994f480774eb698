/** What a capped download came to. Never the URL in a reason: a platform's may hold a token. */
export type Download =
  | { kind: 'ok'; data: Buffer }
  /** Over `maxBytes`, as announced (`bytes`: Content-Length) or while streaming (cut off). */
  | { kind: 'too-big'; bytes?: number }
  /** The server answered, but not 2xx. */
  | { kind: 'http-error'; status: number }
  /** No answer: `message` is fetch's own (no URL), `code` the system error's (ECONNREFUSED…). */
  | { kind: 'network-error'; message: string; code?: string };

export interface DownloadOptions {
  maxBytes: number;
  /** Gives up after this long (the whole download). */
  timeoutMs: number;
  /** E.g. a bearer token for a platform's private file URL. */
  headers?: Record<string, string>;
  /** Tests pass their own; default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * Fetches `url` into memory, never holding more than `maxBytes`: a Content-Length over the cap
 * is refused before the body is read, and a body that turns out larger is cut off as soon as it
 * passes the cap. Never throws: every outcome is a `Download` the channel turns into the file or
 * a note line, so the message itself is always stored.
 */
export async function downloadCapped(url: string, opts: DownloadOptions): Promise<Download> {
  const doFetch = opts.fetch ?? fetch;
  try {
    const res = await doFetch(url, {
      headers: opts.headers,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: 'http-error', status: res.status };
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: 'too-big', bytes: declared };
    }
    if (!res.body) return { kind: 'ok', data: Buffer.alloc(0) };
    const parts: Uint8Array[] = [];
    let size = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > opts.maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { kind: 'too-big' };
      }
      parts.push(value);
    }
    return { kind: 'ok', data: Buffer.concat(parts) };
  } catch (err) {
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    return {
      kind: 'network-error',
      // fetch names a URL it cannot parse in its message: keep it out.
      message: (err instanceof Error ? err.message : String(err)).replace(/\S+:\/\/\S+/g, '<url>'),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
}
