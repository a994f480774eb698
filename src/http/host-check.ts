/**
 * Which `Host` headers the HTTP server answers. A web page on another site can make a browser
 * send requests to the daemon under the page's own name (DNS rebinding: evil.example resolves
 * to 127.0.0.1 a moment later); such a request carries `Host: evil.example`. So the server
 * answers only names it is reached by: the loopback names when it listens on loopback, the
 * address it is bound to, and the names the owner lists in `http.allowedHosts`.
 */
import { isIP } from 'node:net';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** What the check needs to know about the server. */
export interface HostCheckOptions {
  /** The configured bind address (`http.host`). */
  bindHost: string;
  /** The port actually listened on (known only after listen; port 0 picks one). */
  port(): number;
  /** `http.allowedHosts`: `name` (any port) or `name:port`, lower-case. */
  allowedHosts: readonly string[];
}

/** `host[:port]` split into a lower-case name without brackets or trailing dot, and a port. */
export function splitHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  let name = m[1]!.toLowerCase();
  if (name.startsWith('[')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return { name, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** True for `localhost`, `::1` and 127.x addresses. */
function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || (isIP(name) === 4 && name.startsWith('127.'));
}

/** Builds the predicate for `Host` header values (undefined: header missing → refused). */
export function hostChecker(opts: HostCheckOptions): (host: string | undefined) => boolean {
  const bind = splitHost(opts.bindHost)?.name ?? opts.bindHost;
  const wildcard = WILDCARD.has(bind);
  const onLoopback = wildcard || isLoopbackName(bind);
  const allowed = opts.allowedHosts.map((entry) => splitHost(entry)).filter((e) => e !== undefined);
  return (header) => {
    if (!header) return false;
    const host = splitHost(header);
    if (!host) return false;
    const port = host.port ?? 80;
    if (allowed.some((a) => a.name === host.name && (a.port === undefined || a.port === port))) {
      return true;
    }
    if (port !== opts.port()) return false;
    if (host.name === bind) return true;
    if (onLoopback && isLoopbackName(host.name)) return true;
    // Listening on every address: any address literal names this host (a rebinding attack
    // needs a name; it cannot make the browser send an IP literal for its own origin).
    return wildcard && isIP(host.name) !== 0;
  };
}
