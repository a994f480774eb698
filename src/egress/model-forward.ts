/**
 * Forwards one model API request to its upstream with the placeholder credential swapped for
 * the real one, and masks that credential in the answer. Bodies stream both ways without
 * buffering (SSE arrives chunk by chunk).
 */
import { timingSafeEqual } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Logger } from 'pino';
import { errorText, forwardHeaders, sendError } from './http-util.js';
import type { ModelRoute } from './model-routes.js';
import { maskHeaders, SecretMaskStream, secretOf } from './secret-mask.js';

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

/** A decoder for a response `content-encoding`; undefined when there is none to undo. */
const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The status codes (and HEAD) whose responses carry no body to decode. */
function bodiless(method: string | undefined, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/** Who is asking (the run's proxy), for the placeholder check. */
export interface RunIdentity {
  group: string;
  /** The sandbox's label: its session id (or a pre-check's label). */
  session: string;
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
  if (injection.kind === 'missing') {
    rlog.warn('model request refused: no credential on the host for this route');
    sendError(res, 503, 'authentication_error', injection.message);
    return;
  }
  const headers = forwardHeaders(req.headers, ['host', 'x-api-key', 'authorization']);
  headers.host = url.host;
  let secret: string | undefined;
  if (injection.kind === 'set') {
    headers[injection.credential.header] = injection.credential.value;
    secret = secretOf(injection.credential);
    // Ask for a plain answer: the credential can only be found in bytes we can read.
    headers['accept-encoding'] = 'identity';
  }
  const started = Date.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(url, { method: req.method, headers });
  upstream.on('response', (up) => {
    const status = up.statusCode ?? 502;
    const out = forwardHeaders(up.headers);
    const stages: NodeJS.ReadWriteStream[] = [];
    if (secret !== undefined) {
      maskHeaders(out, secret);
      const encoding = String(up.headers['content-encoding'] ?? 'identity')
        .trim()
        .toLowerCase();
      if (!bodiless(req.method, status)) {
        if (encoding !== 'identity') {
          const decoder = DECODERS[encoding];
          if (!decoder) {
            up.destroy();
            rlog.warn({ encoding }, 'model answer refused: an encoding the proxy cannot read');
            sendError(
              res,
              502,
              'api_error',
              `clawpod egress proxy: ${url.host} answered with content-encoding "${encoding}", which the proxy cannot check for the credential; the answer was dropped.`,
            );
            return;
          }
          stages.push(decoder());
        }
        stages.push(new SecretMaskStream(secret));
        // The body is decoded and its length may change: it goes out chunked, unencoded.
        delete out['content-encoding'];
        delete out['content-length'];
      }
    }
    res.writeHead(status, out);
    res.flushHeaders();
    up.on('end', () =>
      rlog.debug({ status: up.statusCode, ms: Date.now() - started }, 'model request done'),
    );
    // An error on either side (upstream reset, bad gzip, client gone) destroys the rest.
    pipeline([up, ...stages, res], () => undefined);
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
