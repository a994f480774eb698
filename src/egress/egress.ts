/**
 * Composition of the egress parts from config: the credentials (daemon env), the model routes,
 * the per-run proxy, and the OAuth refresher when a refresh token is configured.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { CredentialProxy, type EgressGuard } from './credential-proxy.js';
import { ModelCredentials } from './credentials.js';
import type { LookupFn } from './forward.js';
import { modelRoutes, type UpstreamOption } from './model-routes.js';
import { OAuthRefresher, type EgressClock } from './oauth-refresh.js';
import { initialTokens } from './oauth-tokens.js';

/** The daemon's egress: start after the outbox (the refresher may notify), stop after runs. */
export interface Egress {
  readonly credentials: ModelCredentials;
  readonly proxy: CredentialProxy;
  /** Present when CLAUDE_CODE_OAUTH_TOKEN comes with CLAUDE_CODE_OAUTH_REFRESH_TOKEN. */
  readonly refresher: OAuthRefresher | undefined;
  start(): void;
  stop(): Promise<void>;
}

export interface EgressOptions {
  config: Config;
  log: Logger;
  /** OutboxWorker.notifyOwner (may be called before start returns). */
  notifyOwner(key: string, text: string): void;
  /** More custom upstreams (beside config `egress.upstreams`), at `/upstream/<name>`. */
  upstreams?: Readonly<Record<string, UpstreamOption>>;
  clock?: EgressClock;
  lookup?: LookupFn;
  /** The guard's part (holds and asks for hosts on no list); absent: refused at once. */
  guard?: EgressGuard;
}

const systemClock: EgressClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Where OAuth state lives: `$CLAWPOD_HOME/credentials/claude-oauth.json`. */
export const oauthStatePath = (home: string) => join(home, 'credentials', 'claude-oauth.json');

/**
 * The per-run sockets' directory: `$CLAWPOD_HOME/proxy`, or a per-installation directory under
 * the system temp dir when that path is too long for a unix socket (108 bytes on Linux).
 */
export function proxySocketDir(home: string): string {
  const dir = join(home, 'proxy');
  if (Buffer.byteLength(dir) <= 72) return dir;
  const id = createHash('sha256').update(home).digest('hex').slice(0, 12);
  return join(tmpdir(), `clawpod-proxy-${id}`);
}

/** Builds the egress parts; throws EgressConfigError on a bad allowlist entry or upstream URL. */
export function createEgress(opts: EgressOptions): Egress {
  const { config, log } = opts;
  const env = config.env;
  const credentials = new ModelCredentials(env);
  const routes = modelRoutes(env, credentials, {
    ...config.file.egress.upstreams,
    ...opts.upstreams,
  });
  const proxy = new CredentialProxy({
    routes,
    allow: config.file.egress.allow,
    groupAllow: config.file.egress.groups,
    socketDir: proxySocketDir(config.paths.home),
    log,
    lookup: opts.lookup,
    guard: opts.guard,
  });
  const statePath = oauthStatePath(config.paths.home);
  const tokens =
    credentials.anthropicKind() === 'oauth' ? initialTokens(env, statePath) : undefined;
  const { oauth } = config.file.egress;
  const refresher = tokens
    ? new OAuthRefresher({
        initial: tokens,
        envRefreshToken: env.CLAUDE_CODE_OAUTH_REFRESH_TOKEN ?? '',
        tokenUrl: oauth.tokenUrl,
        clientId: oauth.clientId,
        marginMs: oauth.refreshMarginMs,
        statePath,
        clock: opts.clock ?? systemClock,
        onToken: (t) => credentials.setOAuthToken(t),
        notifyOwner: opts.notifyOwner,
        log,
      })
    : undefined;
  return {
    credentials,
    proxy,
    refresher,
    start: () => refresher?.start(),
    stop: async () => {
      refresher?.stop();
      await proxy.closeAll();
    },
  };
}
