import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { silentLogger } from '../logging/logger.js';
import { ModelCredentials } from './credentials.js';
import { OAuthRefresher } from './oauth-refresh.js';
import { initialTokens, parseExpiry, saveTokens } from './oauth-tokens.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const MIN = 60_000;

/** A fake OAuth token endpoint on 127.0.0.1 answering from a script, recording bodies. */
async function tokenEndpoint(script: Array<{ status: number; body?: unknown }>) {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      const step = script.shift() ?? { status: 500 };
      res.writeHead(step.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(step.body ?? { error: 'server_error' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1/oauth/token`,
    bodies,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Collects callback calls and lets a test await the next one. */
function recorder<T>() {
  const seen: T[] = [];
  let waiting: Array<(v: T) => void> = [];
  return {
    seen,
    push: (v: T) => {
      seen.push(v);
      const w = waiting;
      waiting = [];
      w.forEach((f) => f(v));
    },
    next: () => new Promise<T>((r) => waiting.push(r)),
  };
}

describe('OAuth refresher', () => {
  let dir: string;
  let clock: FakeClock;
  let endpoint: Awaited<ReturnType<typeof tokenEndpoint>>;
  let refresher: OAuthRefresher | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clawpod-oauth-'));
    clock = new FakeClock(T0);
  });
  afterEach(async () => {
    refresher?.stop();
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (expiresAt: number, credentials = new ModelCredentials({})) => {
    const tokens = recorder<string>();
    const notices = recorder<{ key: string; text: string }>();
    refresher = new OAuthRefresher({
      initial: { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt },
      envRefreshToken: 'rt-1',
      tokenUrl: endpoint.url,
      clientId: 'client-123',
      marginMs: 10 * MIN,
      statePath: join(dir, 'credentials', 'claude-oauth.json'),
      clock,
      onToken: (t) => {
        credentials.setOAuthToken(t);
        tokens.push(t);
      },
      notifyOwner: (key, text) => notices.push({ key, text }),
      log: silentLogger(),
    });
    return { r: refresher, tokens, notices };
  };

  it('refreshes on a timer before expiry, keeps the token in memory and in the state file', async () => {
    endpoint = await tokenEndpoint([
      { status: 200, body: { access_token: 'at-2', refresh_token: 'rt-2', expires_in: 3600 } },
    ]);
    const credentials = new ModelCredentials({ CLAUDE_CODE_OAUTH_TOKEN: 'at-1' });
    const { r, tokens } = make(T0 + 60 * MIN, credentials);
    r.start();
    expect(tokens.seen).toEqual(['at-1']);
    expect(clock.pending()).toEqual([T0 + 50 * MIN]);
    await clock.advance(49 * MIN);
    expect(endpoint.bodies).toHaveLength(0);
    const next = tokens.next();
    await clock.advance(MIN);
    expect(await next).toBe('at-2');
    expect(endpoint.bodies).toEqual([
      { grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'client-123' },
    ]);
    expect(credentials.anthropic()).toEqual({
      kind: 'set',
      credential: { header: 'authorization', value: 'Bearer at-2' },
    });
    const statePath = join(dir, 'credentials', 'claude-oauth.json');
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({
      accessToken: 'at-2',
      refreshToken: 'rt-2',
      expiresAt: T0 + 50 * MIN + 3600_000,
    });
    expect(r.status).toMatchObject({ state: 'waiting', nextAt: T0 + 50 * MIN + 50 * MIN });
  });

  it('warns the owner at once on a failure, retries with backoff, and says when it recovered', async () => {
    endpoint = await tokenEndpoint([
      { status: 503 },
      { status: 200, body: { access_token: 'at-2', expires_in: 7200 } },
    ]);
    const { r, tokens, notices } = make(T0 + 60 * MIN);
    r.start();
    const warned = notices.next();
    await clock.advance(50 * MIN);
    const notice = await warned;
    expect(notice.key).toBe(`oauth-refresh-failed:${T0 + 60 * MIN}`);
    expect(notice.text).toContain('HTTP 503');
    expect(notice.text).toContain(new Date(T0 + 60 * MIN).toISOString());
    expect(notice.text).toContain('keeps retrying');
    expect(notice.text).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(r.status).toMatchObject({ state: 'retrying', nextAt: T0 + 50 * MIN + 30_000 });
    const refreshed = tokens.next();
    const recovered = notices.next();
    await clock.advance(30_000);
    expect(await refreshed).toBe('at-2');
    expect((await recovered).text).toContain('refreshed again');
    expect(endpoint.bodies[1]).toMatchObject({ refresh_token: 'rt-1' });
  });

  it('gives up when the endpoint refuses the refresh token, and says a new login is needed', async () => {
    endpoint = await tokenEndpoint([{ status: 400, body: { error: 'invalid_grant' } }]);
    const { r, notices } = make(T0 + 5 * MIN);
    const warned = notices.next();
    r.start(); // already inside the margin: the timer is due now
    await clock.advance(0);
    const notice = await warned;
    expect(notice.text).toContain('Retrying cannot help');
    expect(notice.text).toContain('log in again');
    expect(r.status.state).toBe('given-up');
    expect(clock.pending()).toEqual([]);
  });

  it('refreshes at once when the expiry is unknown', async () => {
    endpoint = await tokenEndpoint([
      { status: 200, body: { access_token: 'at-2', expires_in: 60 } },
    ]);
    const { r, tokens } = make(0);
    const next = tokens.next();
    r.start();
    await next; // the initial token
    const refreshed = tokens.next();
    await clock.advance(0);
    expect(await refreshed).toBe('at-2');
  });
});

describe('OAuth token sources', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clawpod-oauth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the state file only when it descends from the refresh token in the env', () => {
    const statePath = join(dir, 'state.json');
    const env = {
      CLAUDE_CODE_OAUTH_TOKEN: 'at-env',
      CLAUDE_CODE_OAUTH_REFRESH_TOKEN: 'rt-env',
      CLAUDE_CODE_OAUTH_EXPIRES_AT: '2026-11-01T13:00:00Z',
    };
    expect(initialTokens(env, statePath)).toEqual({
      accessToken: 'at-env',
      refreshToken: 'rt-env',
      expiresAt: Date.UTC(2026, 10, 1, 13),
    });
    saveTokens(
      statePath,
      { accessToken: 'at-new', refreshToken: 'rt-new', expiresAt: 5 },
      'rt-env',
    );
    expect(initialTokens(env, statePath)).toEqual({
      accessToken: 'at-new',
      refreshToken: 'rt-new',
      expiresAt: 5,
    });
    // The owner logged in again: the env wins.
    const fresh = { ...env, CLAUDE_CODE_OAUTH_REFRESH_TOKEN: 'rt-login-2' };
    expect(initialTokens(fresh, statePath)?.refreshToken).toBe('rt-login-2');
    writeFileSync(statePath, 'not json');
    expect(initialTokens(env, statePath)?.accessToken).toBe('at-env');
    expect(initialTokens({ CLAUDE_CODE_OAUTH_TOKEN: 'x' }, statePath)).toBeUndefined();
  });

  it('reads expiries as epoch ms, epoch seconds or ISO 8601', () => {
    expect(parseExpiry('1790000000000')).toBe(1790000000000);
    expect(parseExpiry('1790000000')).toBe(1790000000000);
    expect(parseExpiry('2026-11-01T12:00:00Z')).toBe(T0);
    expect(() => parseExpiry('soon')).toThrow(/CLAUDE_CODE_OAUTH_EXPIRES_AT/);
  });
});
