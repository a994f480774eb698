/**
 * The proxy's model routes: a path prefix on the proxy → an upstream base URL and the
 * credential injected there. Inside the sandbox each harness points its base URL at its prefix:
 *
 *   http://127.0.0.1:<bridge>/anthropic          → ANTHROPIC_BASE_URL (default https://api.anthropic.com)
 *   http://127.0.0.1:<bridge>/openai/v1          → OPENAI_BASE_URL    (default https://api.openai.com/v1)
 *   http://127.0.0.1:<bridge>/upstream/<name>    → a custom upstream (e.g. an Ollama base_url)
 *
 * The rest of the path (and the query) is appended to the upstream's base path.
 */
import { EGRESS_ROUTES } from '../protocol/runner-protocol.js';
import { EgressConfigError } from './errors.js';
import type { Injection, ModelCredentials, WireCredential } from './credentials.js';

export const ANTHROPIC_PREFIX = EGRESS_ROUTES.anthropic;
export const OPENAI_PREFIX = EGRESS_ROUTES.openai;
export const UPSTREAM_PREFIX = EGRESS_ROUTES.upstream;
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** One route. `credential()` is read per request, so a refreshed token applies at once. */
export interface ModelRoute {
  /** For logs: `anthropic`, `openai`, or `upstream:<name>`. */
  name: string;
  /** Path prefix on the proxy, without a trailing slash. */
  prefix: string;
  /** Upstream base (http or https); its path is kept in front of the forwarded rest. */
  base: URL;
  credential(): Injection;
}

/**
 * A custom upstream (OpenAI-compatible server, gateway). `apiKeyEnv` names the daemon env
 * variable holding its key (omit for a keyless server); `header` defaults to authorization
 * (Bearer).
 */
export interface UpstreamOption {
  baseUrl: string;
  apiKeyEnv?: string;
  header?: WireCredential['header'];
}

/** Parses an upstream base URL; throws EgressConfigError naming `what` when it is unusable. */
export function parseBaseUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EgressConfigError(`${what} is not a URL: set it to e.g. https://api.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressConfigError(`${what} must be an http:// or https:// URL`);
  }
  if (url.username || url.password) {
    throw new EgressConfigError(`${what} must not carry credentials in the URL`);
  }
  return url;
}

/** Builds the route table from the daemon env, the credentials and any custom upstreams. */
export function modelRoutes(
  env: Readonly<Record<string, string>>,
  credentials: ModelCredentials,
  upstreams: Readonly<Record<string, UpstreamOption>> = {},
): ModelRoute[] {
  const routes: ModelRoute[] = [
    {
      name: 'anthropic',
      prefix: ANTHROPIC_PREFIX,
      base: parseBaseUrl(
        env.ANTHROPIC_BASE_URL || DEFAULT_ANTHROPIC_BASE_URL,
        'ANTHROPIC_BASE_URL',
      ),
      credential: () => credentials.anthropic(),
    },
    {
      name: 'openai',
      prefix: OPENAI_PREFIX,
      base: parseBaseUrl(env.OPENAI_BASE_URL || DEFAULT_OPENAI_BASE_URL, 'OPENAI_BASE_URL'),
      credential: () => credentials.openai(),
    },
  ];
  for (const [name, up] of Object.entries(upstreams)) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) {
      throw new EgressConfigError(
        `upstream name "${name}" must be lowercase letters, digits, - and _`,
      );
    }
    const header = up.header ?? 'authorization';
    const keyEnv = up.apiKeyEnv;
    routes.push({
      name: `upstream:${name}`,
      prefix: `${UPSTREAM_PREFIX}/${name}`,
      base: parseBaseUrl(up.baseUrl, `upstream "${name}" baseUrl`),
      credential: () =>
        keyEnv === undefined ? { kind: 'none' } : credentials.fromEnv(keyEnv, header),
    });
  }
  return routes;
}

/** Where an origin-form request goes: its route and upstream URL, or why it may not go. */
export type Routed =
  { ok: true; route: ModelRoute; url: URL } | { ok: false; route: ModelRoute; message: string };

/**
 * Why the path part after a route prefix could leave the route's base path, or undefined when
 * it cannot. WHATWG URL parsing (ours, and that of many upstream servers) treats `\` as `/`
 * and resolves `.`/`..` segments, also percent-encoded ones, after the prefix was matched; so
 * any of those is refused outright rather than normalised.
 */
function pathProblem(restPath: string): string | undefined {
  if (/\\|%5c/i.test(restPath)) return 'a backslash in the path';
  if (/%2e/i.test(restPath)) return 'a percent-encoded dot in the path';
  if (restPath.split('/').some((seg) => seg === '.' || seg === '..')) {
    return 'dot segments in the path';
  }
  return undefined;
}

/** The base path of `base` without trailing slashes (`''` for the root). */
function basePath(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}

/**
 * The route for an origin-form request path (`/anthropic/v1/messages?beta=true`) and the
 * upstream URL it maps to; undefined when no prefix matches. A path that could leave the
 * route's base path (`\`, `%2e`, dot segments) is `ok: false`, and so is any URL whose parsed
 * path does not lie under the base path after all (checked on the final URL, not the text).
 */
export function routeRequest(routes: readonly ModelRoute[], path: string): Routed | undefined {
  for (const route of routes) {
    const rest = path.slice(route.prefix.length);
    if (!path.startsWith(route.prefix) || (rest !== '' && !/^[/?]/.test(rest))) continue;
    const q = rest.indexOf('?');
    const restPath = q === -1 ? rest : rest.slice(0, q);
    const problem = pathProblem(restPath);
    if (problem) return { ok: false, route, message: `clawpod egress proxy: ${problem}` };
    const url = new URL(route.base.href);
    const base = basePath(route.base);
    url.pathname = base + (restPath || '');
    url.search = q === -1 ? '' : rest.slice(q);
    url.hash = '';
    const under = url.pathname === base || url.pathname.startsWith(`${base}/`);
    if (!under || url.origin !== route.base.origin) {
      return {
        ok: false,
        route,
        message: `clawpod egress proxy: the path leaves the route's base ${base || '/'}`,
      };
    }
    return { ok: true, route, url };
  }
  return undefined;
}

/** `host:port` of each route's upstream (default ports filled in), for the implicit allowlist. */
export function upstreamHosts(routes: readonly ModelRoute[]): string[] {
  return routes.map((r) => {
    const port = r.base.port || (r.base.protocol === 'https:' ? '443' : '80');
    return `${r.base.hostname}:${port}`;
  });
}
