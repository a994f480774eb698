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

/**
 * The route for an origin-form request path (`/anthropic/v1/messages?beta=true`) and the
 * upstream URL it maps to; undefined when no prefix matches.
 */
export function routeRequest(
  routes: readonly ModelRoute[],
  path: string,
): { route: ModelRoute; url: URL } | undefined {
  for (const route of routes) {
    const rest = path.slice(route.prefix.length);
    if (!path.startsWith(route.prefix) || (rest !== '' && !/^[/?]/.test(rest))) continue;
    const url = new URL(route.base.href);
    const q = rest.indexOf('?');
    const restPath = q === -1 ? rest : rest.slice(0, q);
    url.pathname = url.pathname.replace(/\/+$/, '') + (restPath || '');
    url.search = q === -1 ? '' : rest.slice(q);
    return { route, url };
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
