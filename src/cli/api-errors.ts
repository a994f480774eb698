/** Nothing answers at the daemon's address. */
export class DaemonUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause?: unknown,
  ) {
    super(`the daemon is not running at ${url} (start it with \`clawpod start\`)`, { cause });
    this.name = 'DaemonUnreachableError';
  }
}

/** The daemon answered with `{error: {code, message}}` (or some other non-2xx). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The ApiError for a non-2xx answer: its `{error: {code, message}}` when it has one. */
export function errorFromBody(status: number, body: string, url: string): ApiError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      return new ApiError(
        status,
        String(parsed.error.code ?? `http_${status}`),
        parsed.error.message,
      );
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(
    status,
    `http_${status}`,
    `HTTP ${status} from ${url} (is this a clawpod daemon?)`,
  );
}
