/**
 * Forwards one model API request to its upstream with the placeholder credential swapped for
 * the real one. Bodies stream both ways without buffering (SSE arrives chunk by chunk).
 */
import { timingSafeEqual } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { errorText, forwardHeaders, sendError } from './http-util.js';
import type { ModelRoute } from './model-routes.js';

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * How the request presents a credential: `placeholder` (as `x-api-key` or `authorization:
 * Bearer`, and nothing else), `none` at all, or something `other`.
 */
export function presentedCredential(
  headers: IncomingMessage['headers'],
  placeholder: string,
): 'placeholder' | 'none' | 'other' {
  const key = headers['x-api-key'];
  const auth = headers.authorization;
  if (key === undefined && auth === undefined) return 'none';
  const keyOk = typeof key === 'string' ? sameText(key, placeholder) : undefined;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] : undefined;
  const authOk = typeof auth === 'string' ? sameText(bearer ?? '', placeholder) : undefined;
  if (keyOk === false || authOk === false) return 'other';
  return keyOk === true || authOk === true ? 'placeholder' : 'other';
}

/** True when the raw request path has a `.` or `..` segment (also percent-encoded). */
function hasDotSegment(rawPath: string): boolean {
  const path = rawPath.split('?')[0]!.replace(/%2e/gi, '.');
  return path.split('/').some((seg) => seg === '..' || seg === '.');
}

/** Who is asking (the run's proxy), for the placeholder check. */
export interface RunIdentity {
  group: string;
  runId: string;
  placeholder: string;
}

/**
 * Forwards `req` to `url` on `route`. Answers 403 when the placeholder is not this run's, 503
 * when the host has no credential for the route (the body names the variable to set), 502 when
 * the upstream cannot be reached. `log` is the run's logger (bound to group and run).
 */
export function forwardModelRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: ModelRoute,
  url: URL,
  who: RunIdentity,
  log: Logger,
): void {
  const rlog = log.child({ route: route.name });
  const injection = route.credential();
  const presented = presentedCredential(req.headers, who.placeholder);
  // A keyless upstream needs no placeholder; every other route does, and nothing else.
  if (presented === 'other' || (presented === 'none' && injection.kind !== 'none')) {
    rlog.warn("model request refused: not this run's placeholder credential");
    sendError(
      res,
      403,
      'permission_error',
      'clawpod egress proxy: this request does not carry the credential placeholder of this run; use the API key clawpod set in the environment.',
    );
    return;
  }
  if (hasDotSegment(req.url ?? '')) {
    sendError(res, 400, 'invalid_request_error', 'clawpod egress proxy: dot segments in the path');
    return;
  }
  if (injection.kind === 'missing') {
    rlog.warn('model request refused: no credential on the host for this route');
    sendError(res, 503, 'authentication_error', injection.message);
    return;
  }
  const headers = forwardHeaders(req.headers, ['host', 'x-api-key', 'authorization']);
  headers.host = url.host;
  if (injection.kind === 'set') headers[injection.credential.header] = injection.credential.value;
  const started = Date.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(url, { method: req.method, headers });
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
    res.flushHeaders();
    up.pipe(res);
    up.on('end', () =>
      rlog.debug({ status: up.statusCode, ms: Date.now() - started }, 'model request done'),
    );
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err) => {
    rlog.warn({ upstream: url.host, err: errorText(err) }, 'model upstream unreachable');
    sendError(
      res,
      502,
      'api_error',
      `clawpod egress proxy could not reach ${url.host} (${errorText(err)}); check ANTHROPIC_BASE_URL / OPENAI_BASE_URL and the host's network.`,
    );
  });
  // The client went away before the answer was complete: stop the upstream call too.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
