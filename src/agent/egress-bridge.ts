/**
 * Inside the sandbox: the way out. The sandbox has no network, only the host proxy's unix
 * socket; this bridge listens on 127.0.0.1:<ephemeral> and pipes each TCP connection to that
 * socket, so ordinary HTTP clients (the Claude SDK, codex, curl) can use it as a base URL or an
 * HTTP(S) proxy. Imports node and protocol only.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { EGRESS_ROUTES, type ProxyInfo } from '../protocol/runner-protocol.js';

/** A running bridge. `close()` stops listening and ends open connections. */
export interface EgressBridge {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the bridge to `socketPath`; resolves once it listens. */
export async function startEgressBridge(socketPath: string): Promise<EgressBridge> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(socketPath);
    open.add(client).add(upstream);
    client.setNoDelay(true);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const PLACEHOLDER_VAR = {
  'api-key': 'ANTHROPIC_API_KEY',
  oauth: 'CLAUDE_CODE_OAUTH_TOKEN',
  bearer: 'ANTHROPIC_AUTH_TOKEN',
} as const;

/**
 * The environment a harness gets for the bridge on `port`: base URLs pointing at the model
 * routes, the run's placeholder where a key is expected (in the variable matching the host's
 * kind of Anthropic credential), and HTTP(S)_PROXY for every other destination.
 */
export function bridgeEnv(port: number, proxy: ProxyInfo): Record<string, string> {
  const origin = `http://127.0.0.1:${port}`;
  const noProxy = '127.0.0.1,localhost';
  return {
    CLAWPOD_EGRESS_URL: origin,
    ANTHROPIC_BASE_URL: `${origin}${EGRESS_ROUTES.anthropic}`,
    [PLACEHOLDER_VAR[proxy.anthropicAuth]]: proxy.placeholder,
    OPENAI_BASE_URL: `${origin}${EGRESS_ROUTES.openai}`,
    OPENAI_API_KEY: proxy.placeholder,
    HTTPS_PROXY: origin,
    HTTP_PROXY: origin,
    https_proxy: origin,
    http_proxy: origin,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

/**
 * The harness environment for a start request: `base` unchanged when the run has no proxy;
 * otherwise the bridge is started and its variables are laid over `base`.
 */
export async function egressEnv(
  proxy: ProxyInfo | null | undefined,
  base: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, string | undefined>> {
  if (!proxy) return { ...base };
  const bridge = await startEgressBridge(proxy.socket);
  return { ...base, ...bridgeEnv(bridge.port, proxy) };
}
