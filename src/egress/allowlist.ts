/**
 * The egress allowlist: which destinations a sandbox may reach through the proxy's forward
 * part (CONNECT tunnels and absolute-URI requests). Pure: no I/O.
 *
 * Entry syntax (config `egress.allow`, `egress.groups.<folder>`):
 * - `example.com`        that host on ports 80 and 443
 * - `example.com:8443`   that host on that port only; `example.com:*` on any port
 * - `*.example.com`      any subdomain (not the apex itself), same port rules
 * - `*`                  any host on 80/443 (`*:*` any port)
 * - `127.0.0.1:5000`, `[::1]:8080`, `localhost:3000`  IP literals and localhost
 *
 * Internal addresses (loopback, unspecified, link-local such as the cloud metadata service) are
 * reachable only through an entry that names such an address (or `localhost`) itself: a
 * hostname entry, or `*`, that resolves to one is refused (see `isInternalAddress`).
 */
import { BlockList, isIP } from 'node:net';
import { EgressConfigError } from './errors.js';

/** One parsed allowlist entry. */
export interface HostRule {
  /** Lower-case host without brackets; `*` any host; `*.x` any subdomain of x. */
  host: string;
  /** null: ports 80 and 443; `*`: any port; else exactly this port. */
  port: number | '*' | null;
  /** The entry itself names an internal address (or localhost): such destinations are allowed. */
  internal: boolean;
  /** The entry as written, for logs. */
  source: string;
}

/** A destination as asked for by a client. */
export interface Target {
  host: string;
  port: number;
}

const internalBlocks = new BlockList();
internalBlocks.addSubnet('127.0.0.0', 8, 'ipv4');
internalBlocks.addSubnet('0.0.0.0', 8, 'ipv4');
internalBlocks.addSubnet('169.254.0.0', 16, 'ipv4');
internalBlocks.addAddress('::1', 'ipv6');
internalBlocks.addAddress('::', 'ipv6');
internalBlocks.addSubnet('fe80::', 10, 'ipv6');

/** Loopback, unspecified or link-local (IPv4, IPv6, IPv4-mapped IPv6). False for non-IPs. */
export function isInternalAddress(ip: string): boolean {
  const host = normaliseHost(ip);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return internalBlocks.check(mapped[1]!, 'ipv4');
  const family = isIP(host);
  if (family === 4) return internalBlocks.check(host, 'ipv4');
  if (family === 6) return internalBlocks.check(host, 'ipv6');
  return false;
}

/** Lower-case, without IPv6 brackets and without a trailing dot. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Splits `host:port` / `[v6]:port` / `host`; undefined when malformed. */
export function parseAuthority(
  authority: string,
  defaultPort?: number,
): { host: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(authority.trim());
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: normaliseHost(m[1]!), port };
}

const HOST_CHARS = /^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*|[0-9a-f:.]+)$/;

/** Parses one entry; throws EgressConfigError saying what is wrong with it. */
export function parseHostRule(entry: string): HostRule {
  const src = entry.trim();
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}|\*))?$/.exec(src);
  const host = m ? normaliseHost(m[1]!) : '';
  if (!m || !HOST_CHARS.test(host) || (host.includes(':') && isIP(host) !== 6)) {
    throw new EgressConfigError(
      `egress allowlist entry "${entry}" is not a host pattern: use host, host:port, *.domain or [v6]:port`,
    );
  }
  let port: HostRule['port'] = null;
  if (m[2] === '*') port = '*';
  else if (m[2] !== undefined) {
    port = Number(m[2]);
    if (port < 1 || port > 65535) {
      throw new EgressConfigError(`egress allowlist entry "${entry}" has an invalid port`);
    }
  }
  const internal = host === 'localhost' || isInternalAddress(host);
  return { host, port, internal, source: src };
}

function hostMatches(rule: HostRule, host: string): boolean {
  if (rule.host === '*') return true;
  if (rule.host.startsWith('*.')) return host.endsWith(rule.host.slice(1));
  return rule.host === host;
}

function portMatches(rule: HostRule, port: number): boolean {
  if (rule.port === '*') return true;
  if (rule.port === null) return port === 80 || port === 443;
  return rule.port === port;
}

/** A parsed list of rules. Construction throws EgressConfigError on a bad entry. */
export class Allowlist {
  readonly rules: readonly HostRule[];

  constructor(entries: readonly string[]) {
    this.rules = entries.map(parseHostRule);
  }

  /** Every rule allowing `target` (empty when none does). */
  matches(target: Target): HostRule[] {
    const host = normaliseHost(target.host);
    return this.rules.filter((r) => hostMatches(r, host) && portMatches(r, target.port));
  }

  /** A new list with `more` entries appended. */
  with(more: readonly string[]): Allowlist {
    return new Allowlist([...this.rules.map((r) => r.source), ...more]);
  }
}
