/**
 * The host's credential and egress proxy. Each run gets its own HTTP proxy on its own unix
 * socket (mounted into that run's sandbox only) and its own random placeholder credential:
 *
 * - origin-form requests under a model route prefix (`/anthropic/…`, `/openai/v1/…`,
 *   `/upstream/<name>/…`) must present the run's placeholder and stay under the route's base
 *   path (model-routes.ts); they are forwarded to the real upstream with the real credential
 *   injected, and that credential is masked in what comes back (model-forward.ts);
 * - CONNECT and absolute-URI requests are a forward proxy, limited to the run's allowlist
 *   (forward.ts); each refusal answers 403, logs {group, run, host} and counts
 *   `clawpod_egress_refused_total{group}`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Metric } from 'prom-client';
import { Allowlist, type Target } from './allowlist.js';
import { defaultLookup, handleAbsolute, handleConnect, type ForwardContext } from './forward.js';
import type { AskedTarget, LookupFn, Refusal } from './forward.js';
import { rejectSocket, sendError } from './http-util.js';
import { forwardModelRequest, type RunIdentity } from './model-forward.js';
import { routeRequest, upstreamHosts, type ModelRoute } from './model-routes.js';

/** Options of the daemon-wide proxy. Allowlist entries are validated at construction. */
export interface CredentialProxyOptions {
  routes: readonly ModelRoute[];
  /** Entries every group may reach (config `egress.allow`); the model upstreams are implicit. */
  allow: readonly string[];
  /** Extra entries per group folder (config `egress.groups`). */
  groupAllow?: Readonly<Record<string, readonly string[]>>;
  /** Where the per-run sockets live; created 0711, stale sockets removed at construction. */
  socketDir: string;
  log: Logger;
  /** Host name resolution for forward requests (tests inject one). */
  lookup?: LookupFn;
  /** The guard's part: the owner's extra hosts, holding and asking for a new one, taint. */
  guard?: EgressGuard;
}

/**
 * What the proxy needs from the guard (src/guard/egress-gate.ts). `session` is the label the
 * proxy was opened with (the agent session's id, or a pre-check's label).
 */
export interface EgressGuard {
  /** Entries the owner allowed for the group (an `always` answer), beyond config. */
  entries(group: string): readonly string[];
  /** A destination on no list: held until decided. */
  ask(
    req: AskedTarget & { group: string; session: string },
  ): Promise<{ allowed: true } | { allowed: false; message: string }>;
  /** A destination was reached. */
  reached?(req: Target & { group: string; session: string }): void;
}

/** One run's proxy. `close()` is idempotent and ends open tunnels. */
export interface RunProxy {
  /** Host path of the unix socket: mount it into the run's sandbox. */
  readonly socketPath: string;
  /** The credential the sandbox presents instead of the real one. */
  readonly placeholder: string;
  close(): Promise<void>;
}

/** Daemon-wide proxy: shared routes, allowlists and counter; one server per run. */
export class CredentialProxy {
  /** `clawpod_egress_refused_total{group}`: register it on the daemon's metrics registry. */
  readonly refusedTotal = new Counter({
    name: 'clawpod_egress_refused_total',
    help: 'Egress requests refused by the allowlist, by group',
    labelNames: ['group'],
    registers: [],
  });
  /** The latest refusals (newest last), for the owner's health view; bounded. */
  private readonly refusals: Array<{ at: number; group: string; host: string; reason: string }> =
    [];
  private readonly base: Allowlist;
  private readonly perGroup = new Map<string, Allowlist>();
  private readonly open_ = new Set<RunProxy>();
  private readonly grown = new Map<string, { key: string; allow: Allowlist }>();

  constructor(private readonly opts: CredentialProxyOptions) {
    this.base = new Allowlist([...opts.allow, ...upstreamHosts(opts.routes)]);
    for (const [group, extra] of Object.entries(opts.groupAllow ?? {})) {
      this.perGroup.set(group, this.base.with(extra));
    }
    // Traversable, not listable: a socket is reachable only by whoever knows its random name
    // (the sandbox it is mounted into; with the `none` runtime the agent's own uid).
    mkdirSync(opts.socketDir, { recursive: true, mode: 0o711 });
    chmodSync(opts.socketDir, 0o711);
    for (const name of readdirSync(opts.socketDir)) {
      if (name.endsWith('.sock')) unlinkSync(join(opts.socketDir, name));
    }
  }

  /** The metrics to register (`createMetrics({extra})`). */
  metrics(): Metric[] {
    return [this.refusedTotal];
  }

  /** The latest egress refusals (at most 100, newest last; since the daemon started). */
  recentRefusals(): Array<{ at: number; group: string; host: string; reason: string }> {
    return [...this.refusals];
  }

  /** True when the group may reach hosts beyond the model APIs (config allow or its own list). */
  hasEgress(group: string): boolean {
    return (
      this.opts.allow.length > 0 ||
      (this.opts.groupAllow?.[group]?.length ?? 0) > 0 ||
      (this.opts.guard?.entries(group).length ?? 0) > 0
    );
  }

  /** The group's allowlist now: config, plus what the owner allowed since (cached per change). */
  private allowFor(group: string): Allowlist {
    const fixed = this.perGroup.get(group) ?? this.base;
    const extra = this.opts.guard?.entries(group) ?? [];
    if (!extra.length) return fixed;
    const key = `${group}\u0000${extra.join('\u0000')}`;
    let list = this.grown.get(group);
    if (list?.key !== key) {
      list = { key, allow: fixed.with(extra.filter(validEntry)) };
      this.grown.set(group, list);
    }
    return list.allow;
  }

  /** Starts a run's proxy on a fresh socket with an unguessable name, connectable by any uid. */
  async open(run: { group: string; session: string }): Promise<RunProxy> {
    const who: RunIdentity = {
      group: run.group,
      session: run.session,
      placeholder: `clawpod-placeholder-${randomBytes(24).toString('hex')}`,
    };
    const log = this.opts.log.child({ group: run.group, session: run.session });
    const sockets = new Set<Socket>();
    const guard = this.opts.guard;
    const allowNow = () => this.allowFor(run.group);
    const fwd: ForwardContext = {
      group: run.group,
      get allow() {
        return allowNow();
      },
      ...(guard && {
        ask: (t: AskedTarget) => guard.ask({ ...t, group: run.group, session: run.session }),
        reached: (t: Target) => guard.reached?.({ ...t, group: run.group, session: run.session }),
      }),
      lookup: this.opts.lookup ?? defaultLookup,
      sockets,
      refused: (host, refusal) => this.refused(run.group, log, host, refusal),
    };
    const server = createServer((req, res) => this.onRequest(who, fwd, log, req, res));
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (!proxyAuthOk(req, who.placeholder)) {
        rejectSocket(socket, 407, 'Proxy Authentication Required', WRONG_PROXY_AUTH);
        return;
      }
      void handleConnect(fwd, req, socket, head).catch(() => socket.destroy());
    });
    server.on('upgrade', (_req: IncomingMessage, socket: Socket) =>
      rejectSocket(socket, 501, 'Not Implemented', 'clawpod egress: upgrades are not proxied'),
    );
    const socketPath = join(this.opts.socketDir, `${randomBytes(12).toString('hex')}.sock`);
    await listen(server, socketPath);
    chmodSync(socketPath, 0o666);
    let closed: Promise<void> | undefined;
    const handle: RunProxy = {
      socketPath,
      placeholder: who.placeholder,
      close: () => (closed ??= this.shut(handle, server, sockets)),
    };
    this.open_.add(handle);
    log.debug('egress proxy open');
    return handle;
  }

  /** Closes every run's proxy (daemon stop). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open_].map((p) => p.close()));
  }

  private async shut(handle: RunProxy, server: Server, sockets: Set<Socket>): Promise<void> {
    this.open_.delete(handle);
    for (const s of sockets) s.destroy();
    const done = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await done;
    try {
      unlinkSync(handle.socketPath);
    } catch {
      // already gone
    }
  }

  private onRequest(
    who: RunIdentity,
    fwd: ForwardContext,
    log: Logger,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const url = req.url ?? '/';
    if (!url.startsWith('/')) {
      if (!proxyAuthOk(req, who.placeholder)) {
        sendError(res, 407, 'permission_error', WRONG_PROXY_AUTH);
        return;
      }
      void handleAbsolute(fwd, req, res).catch(() => res.destroy());
      return;
    }
    const routed = routeRequest(this.opts.routes, url);
    if (!routed) {
      const prefixes = this.opts.routes.map((r) => r.prefix).join(', ');
      sendError(
        res,
        404,
        'not_found_error',
        `clawpod egress: no model route here; use ${prefixes}`,
      );
      return;
    }
    if (!routed.ok) {
      log.warn({ route: routed.route.name, reason: routed.message }, 'model request refused');
      sendError(res, 400, 'invalid_request_error', routed.message);
      return;
    }
    forwardModelRequest(req, res, routed.route, routed.url, who, log);
  }

  private refused(group: string, log: Logger, host: string, refusal: Refusal): void {
    if (refusal.kind === 'refused') {
      this.refusedTotal.inc({ group });
      this.refusals.push({ at: Date.now(), group, host, reason: refusal.message });
      if (this.refusals.length > 100) this.refusals.shift();
      log.warn({ host, reason: refusal.message }, 'egress refused');
    } else log.warn({ host, reason: refusal.message }, 'egress destination unresolvable');
  }
}

const WRONG_PROXY_AUTH =
  'clawpod egress: wrong proxy credentials; use HTTPS_PROXY as clawpod set it in the environment';

/**
 * The socket already identifies the run, so proxy credentials are optional; when a client sends
 * them (user:password in HTTPS_PROXY), the password (or Bearer token) must be the placeholder.
 */
function proxyAuthOk(req: IncomingMessage, placeholder: string): boolean {
  const h = req.headers['proxy-authorization'];
  if (h === undefined) return true;
  const basic = /^Basic\s+(\S+)$/i.exec(h);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    return text.slice(text.indexOf(':') + 1) === placeholder;
  }
  return /^Bearer\s+(\S+)$/i.exec(h)?.[1] === placeholder;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A stored entry that no longer parses is left out (and cannot widen anything). */
function validEntry(entry: string): boolean {
  try {
    new Allowlist([entry]);
    return true;
  } catch {
    return false;
  }
}
