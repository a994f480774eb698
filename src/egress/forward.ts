/**
 * The proxy's forward part, for everything that is not a model route: CONNECT tunnels (what
 * clients do for https:// through HTTPS_PROXY) and absolute-URI requests (plain http:// through
 * HTTP_PROXY). Each destination must be on the run's allowlist; the host name is resolved here
 * and the connection goes to the checked address (no second look-up a rebinding DNS could
 * change), and an internal address needs an entry naming it (see allowlist.ts).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import {
  isInternalAddress,
  normaliseHost,
  parseAuthority,
  type Allowlist,
  type HostRule,
  type Target,
} from './allowlist.js';
import { errorText, forwardHeaders, rejectSocket, sendError } from './http-util.js';

/** Resolves a host name to one address (injected by tests to play a rebinding DNS). */
export type LookupFn = (host: string) => Promise<{ address: string }>;

export const defaultLookup: LookupFn = (host) => dnsLookup(host, { verbatim: true });

/** Why a destination was refused (`status` 403) or could not be resolved (502). */
export interface Refusal {
  status: 403 | 502;
  /** For the client, naming what to change. */
  message: string;
  /** For the log and the counter: `refused` is counted, `unresolved` is not. */
  kind: 'refused' | 'unresolved';
}

/** A destination the allowlist does not name, as the owner is asked about it. */
export interface AskedTarget extends Target {
  /** Plain-HTTP requests only (an HTTPS tunnel shows host and port alone). */
  method?: string;
  path?: string;
}

/** What the forward part needs from the per-run proxy. */
export interface ForwardContext {
  group: string;
  /** The group's allowlist now (it grows when the owner answers `always`). */
  readonly allow: Allowlist;
  /**
   * A destination not on the allowlist: the guard holds it until the owner decides (absent:
   * refused at once). Resolves allowed, or not with the reason.
   */
  ask?(target: AskedTarget): Promise<{ allowed: true } | { allowed: false; message: string }>;
  /** A destination was let through (the run reads from outside: its turn is tainted). */
  reached?(target: Target): void;
  lookup: LookupFn;
  /** Called for every refusal, with the host:port asked for. */
  refused(target: string, refusal: Refusal): void;
  /** Open tunnels, destroyed when the run's proxy closes. */
  sockets: Set<Socket>;
}

const hint = (group: string) =>
  `add it to egress.allow (every group) or egress.groups.${group} in $CLAWPOD_HOME/config.yaml and restart clawpod`;

/**
 * Checks `target` against the allowlist (asking the owner through the guard when it is not on
 * it) and resolves it to a connectable address.
 */
export async function resolveTarget(
  ctx: ForwardContext,
  target: AskedTarget,
): Promise<{ ok: true; address: string } | { ok: false; refusal: Refusal }> {
  const shown = `${target.host}:${target.port}`;
  let rules: Array<Pick<HostRule, 'internal'>> = ctx.allow.matches(target);
  if (rules.length === 0) {
    const answer = ctx.ask ? await ctx.ask(target) : undefined;
    if (!answer?.allowed) {
      return {
        ok: false,
        refusal: {
          status: 403,
          kind: 'refused',
          message: answer
            ? `${answer.message}. ${shown} is not on the allowlist of group "${ctx.group}".`
            : `clawpod egress: ${shown} is not on the allowlist of group "${ctx.group}"; ${hint(ctx.group)}.`,
        },
      };
    }
    // Allowed for this request: as if an entry named exactly this host and port.
    const host = normaliseHost(target.host);
    rules = [{ internal: host === 'localhost' || isInternalAddress(host) }];
  }
  let address = normaliseHost(target.host);
  if (!isIP(address)) {
    try {
      address = (await ctx.lookup(address)).address;
    } catch (err) {
      return {
        ok: false,
        refusal: {
          status: 502,
          kind: 'unresolved',
          message: `clawpod egress: cannot resolve ${target.host} (${errorText(err)}).`,
        },
      };
    }
  }
  if (isInternalAddress(address) && !rules.some((r) => r.internal)) {
    return {
      ok: false,
      refusal: {
        status: 403,
        kind: 'refused',
        message: `clawpod egress: ${shown} resolves to the internal address ${address}; only an allowlist entry naming that address (or localhost) itself may reach it.`,
      },
    };
  }
  return { ok: true, address };
}

/** Handles `CONNECT host:port`: checks, connects, answers 200 and splices the two sockets. */
export async function handleConnect(
  ctx: ForwardContext,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<void> {
  client.on('error', () => undefined);
  const parsed = parseAuthority(req.url ?? '');
  if (!parsed?.port) {
    rejectSocket(client, 400, 'Bad Request', 'clawpod egress: CONNECT needs host:port');
    return;
  }
  const target = { host: parsed.host, port: parsed.port };
  const checked = await resolveTarget(ctx, target);
  if (!checked.ok) {
    ctx.refused(`${target.host}:${target.port}`, checked.refusal);
    const reason = checked.refusal.status === 403 ? 'Forbidden' : 'Bad Gateway';
    rejectSocket(client, checked.refusal.status, reason, checked.refusal.message);
    return;
  }
  ctx.reached?.(target);
  const upstream = connect({ host: checked.address, port: target.port });
  let established = false;
  ctx.sockets.add(upstream).add(client);
  upstream.once('connect', () => {
    established = true;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (!established) rejectSocket(client, 502, 'Bad Gateway', `clawpod egress: ${errorText(err)}`);
  });
  upstream.on('close', () => {
    ctx.sockets.delete(upstream);
    if (established) client.destroy();
  });
  client.on('close', () => {
    ctx.sockets.delete(client);
    upstream.destroy();
  });
}

/** Handles an absolute-URI request (`GET http://host/path`): checks, then forwards plain HTTP. */
export async function handleAbsolute(
  ctx: ForwardContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    sendError(res, 400, 'invalid_request_error', 'clawpod egress: malformed request URL');
    return;
  }
  if (url.protocol !== 'http:') {
    sendError(res, 400, 'invalid_request_error', 'clawpod egress: use CONNECT for https');
    return;
  }
  const target = { host: normaliseHost(url.hostname), port: Number(url.port || 80) };
  const checked = await resolveTarget(ctx, {
    ...target,
    method: req.method ?? 'GET',
    path: url.pathname + url.search,
  });
  if (!checked.ok) {
    ctx.refused(`${target.host}:${target.port}`, checked.refusal);
    sendError(res, checked.refusal.status, 'permission_error', checked.refusal.message);
    return;
  }
  ctx.reached?.(target);
  const headers = forwardHeaders(req.headers);
  headers.host = url.host;
  const upstream = httpRequest({
    host: checked.address,
    port: target.port,
    method: req.method,
    path: url.pathname + url.search,
    headers,
    agent: false,
  });
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err) =>
    sendError(res, 502, 'api_error', `clawpod egress: ${url.host}: ${errorText(err)}`),
  );
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
