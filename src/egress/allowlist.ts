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
 * Internal addresses (loopback, unspecified, private networks, link-local, the cloud metadata
 * services, multicast) are reachable only through an entry that names such an address (or
 * `localhost`) itself: a hostname entry, or `*`, that resolves to one is refused (see
 * `isInternalAddress`), so neither a wildcard nor a rebinding DNS reaches the host's networks.
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

/**
 * Addresses a wildcard (or a name that resolves to one) never reaches: the host itself, the
 * networks it sits in, and every cloud metadata service (169.254.169.254, Alibaba's
 * 100.100.100.200 in 100.64/10, AWS's fd00:ec2::254 in fc00::/7).
 */
const INTERNAL_V4: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT, Tailscale, Alibaba metadata
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const INTERNAL_V6: ReadonlyArray<[string, number]> = [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7], // unique local (fd00:ec2::254: AWS metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const internalBlocks = new BlockList();
for (const [net, bits] of INTERNAL_V4) internalBlocks.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of INTERNAL_V6) internalBlocks.addSubnet(net, bits, 'ipv6');

/** An IPv6 literal in its one canonical text form (compressed, lower-case, hex only). */
function canonicalV6(ip: string): string {
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** The IPv4 address inside a well-known NAT64 address (64:ff9b::/96), else undefined. */
function nat64Embedded(canonical: string): string | undefined {
  const m = /^64:ff9b::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/**
 * Loopback, unspecified, private (RFC 1918, 100.64/10, fc00::/7), link-local, multicast or
 * reserved: IPv4, IPv6, IPv4-mapped IPv6 and NAT64 forms. False for non-IPs.
 */
export function isInternalAddress(ip: string): boolean {
  const host = normaliseHost(ip);
  const family = isIP(host);
  if (family === 4) return internalBlocks.check(host, 'ipv4');
  if (family !== 6) return false;
  if (host.includes('%')) return true; // a zone id: scoped to a local link
  // BlockList checks IPv4-mapped addresses (::ffff:a.b.c.d, ::ffff:a00:1) against the v4
  // rules; NAT64 ones are translated by a gateway into the v4 address they carry.
  const v6 = canonicalV6(host);
  const embedded = nat64Embedded(v6);
  if (embedded !== undefined) return internalBlocks.check(embedded, 'ipv4');
  return internalBlocks.check(v6, 'ipv6');
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
