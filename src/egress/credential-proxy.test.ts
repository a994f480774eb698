import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEchoUpstream, type EchoUpstream } from '../../test/fakes/echo-upstream.js';
import { startEgressBridge } from '../agent/egress-bridge.js';
import { CredentialProxy, type RunProxy } from './credential-proxy.js';
import { ModelCredentials } from './credentials.js';
import type { LookupFn } from './forward.js';
import { modelRoutes, type UpstreamOption } from './model-routes.js';
import { SECRET_MASK } from './secret-mask.js';

const REAL_KEY = 'sk-ant-REAL-0123456789';
const REAL_OPENAI = 'sk-openai-REAL-9876543210';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request over the run's unix socket (origin-form or absolute URI). */
function call(
  socketPath: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method: opts.method ?? 'POST', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

/** One HTTP request to 127.0.0.1:`port` (the in-sandbox bridge), the path sent as written. */
function callTcp(
  port: number,
  opts: { path: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

/** CONNECT through the socket; resolves with the status line and, when 200, the socket. */
function tunnel(socketPath: string, authority: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; socket?: import('node:net').Socket }>(
    (resolve, reject) => {
      const req = request({ socketPath, method: 'CONNECT', path: authority, headers });
      req.on('connect', (res: IncomingMessage, socket, head: Buffer) => {
        if (res.statusCode === 200) return resolve({ status: 200, body: '', socket });
        let body = head.toString('utf8');
        socket.on('data', (c: Buffer) => (body += c.toString('utf8')));
        socket.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        socket.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('credential proxy', () => {
  let upstream: EchoUpstream;
  let allowed: EchoUpstream;
  let dir: string;
  let logs: Array<Record<string, unknown>>;
  let proxy: CredentialProxy;
  const runs: RunProxy[] = [];

  const make = (
    over: {
      env?: Record<string, string>;
      allow?: string[];
      groupAllow?: Record<string, string[]>;
      upstreams?: Record<string, UpstreamOption>;
      lookup?: LookupFn;
    } = {},
  ) => {
    const env = {
      ANTHROPIC_BASE_URL: upstream.url,
      ANTHROPIC_API_KEY: REAL_KEY,
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      OPENAI_API_KEY: REAL_OPENAI,
      ...over.env,
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        cb();
      },
    });
    proxy = new CredentialProxy({
      routes: modelRoutes(env, new ModelCredentials(env), over.upstreams),
      allow: over.allow ?? [],
      groupAllow: over.groupAllow,
      socketDir: join(dir, 'proxy'),
      log: pino({ level: 'debug' }, sink),
      lookup: over.lookup,
    });
    return proxy;
  };
  const open = async (group = 'team', session = 'ses_1') => {
    const r = await proxy.open({ group, session });
    runs.push(r);
    return r;
  };

  beforeEach(async () => {
    upstream = await startEchoUpstream({ holdStreams: true });
    allowed = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), 'clawpod-egress-'));
    logs = [];
  });
  afterEach(async () => {
    for (const r of runs.splice(0)) await r.close();
    await upstream.close();
    await allowed.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards Anthropic requests with the real key in place of the placeholder', async () => {
    make();
    const run = await open();
    const r = await call(run.socketPath, {
      path: '/anthropic/v1/messages?beta=true',
      headers: { 'x-api-key': run.placeholder, 'content-type': 'application/json' },
      body: '{"model":"m"}',
    });
    expect(r.status).toBe(200);
    const seen = upstream.requests[0]!;
    expect(seen.path).toBe('/v1/messages?beta=true');
    expect(seen.headers['x-api-key']).toBe(REAL_KEY);
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(JSON.stringify(seen.headers)).not.toContain(run.placeholder);
    expect(seen.body).toBe('{"model":"m"}');
    expect(JSON.stringify(logs)).not.toContain(REAL_KEY);
  });

  it('forwards OpenAI requests with the real key as Bearer, under the base path', async () => {
    make();
    const run = await open();
    await call(run.socketPath, {
      path: '/openai/v1/responses',
      headers: { authorization: `Bearer ${run.placeholder}` },
      body: '{}',
    });
    expect(upstream.requests[0]!.path).toBe('/v1/responses');
    expect(upstream.requests[0]!.headers.authorization).toBe(`Bearer ${REAL_OPENAI}`);
  });

  it('injects an OAuth token as Bearer and drops the placeholder header', async () => {
    make({ env: { ANTHROPIC_API_KEY: '', CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat-REAL' } });
    const run = await open();
    await call(run.socketPath, {
      path: '/anthropic/v1/messages',
      headers: { authorization: `Bearer ${run.placeholder}` },
    });
    const h = upstream.requests[0]!.headers;
    expect(h.authorization).toBe('Bearer sk-ant-oat-REAL');
    expect(h['x-api-key']).toBeUndefined();
  });

  it("refuses a wrong placeholder and another run's placeholder with 403", async () => {
    make();
    const a = await open('team', 'run_a');
    const b = await open('other', 'run_b');
    for (const key of ['guess', b.placeholder]) {
      const r = await call(a.socketPath, {
        path: '/anthropic/v1/messages',
        headers: { 'x-api-key': key },
      });
      expect(r.status).toBe(403);
      expect(r.body).toContain('placeholder');
    }
    const both = await call(a.socketPath, {
      path: '/anthropic/v1/messages',
      headers: { 'x-api-key': a.placeholder, authorization: 'Bearer sk-other' },
    });
    expect(both.status).toBe(403);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 503 naming the variable when the host has no credential', async () => {
    make({ env: { OPENAI_API_KEY: '' } });
    const run = await open();
    const r = await call(run.socketPath, {
      path: '/openai/v1/responses',
      headers: { authorization: `Bearer ${run.placeholder}` },
    });
    expect(r.status).toBe(503);
    expect(r.body).toContain('OPENAI_API_KEY');
  });

  it('streams SSE through the bridge without buffering', async () => {
    make();
    const run = await open();
    const bridge = await startEgressBridge(run.socketPath);
    try {
      const events: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: bridge.port,
            method: 'POST',
            path: '/anthropic/v1/messages',
            headers: { 'x-api-key': run.placeholder, 'content-type': 'application/json' },
          },
          (res) => {
            expect(res.headers['content-type']).toBe('text/event-stream');
            res.on('data', (c: Buffer) => {
              events.push(c.toString('utf8'));
              // The upstream still holds the rest: this chunk came through on its own.
              if (events.length === 1) {
                expect(events[0]).toContain('message_start');
                expect(events[0]).not.toContain('message_stop');
                upstream.release();
              }
            });
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end('{"stream":true}');
      });
      await done;
      expect(events.join('')).toContain('message_stop');
      expect(events.length).toBeGreaterThan(1);
    } finally {
      await bridge.close();
    }
  });

  it('lets an allowlisted host through CONNECT and absolute URIs', async () => {
    make({ groupAllow: { team: [`127.0.0.1:${allowed.port}`] } });
    const run = await open();
    const abs = await call(run.socketPath, { method: 'GET', path: `${allowed.url}/hello?x=1` });
    expect(abs.status).toBe(200);
    expect(JSON.parse(abs.body)).toMatchObject({ method: 'GET', path: '/hello?x=1' });
    const t = await tunnel(run.socketPath, `127.0.0.1:${allowed.port}`);
    expect(t.status).toBe(200);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      t.socket!.on('data', (c: Buffer) => (text += c.toString('utf8')));
      t.socket!.on('end', () => resolve(text));
      t.socket!.end('GET /through-tunnel HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    expect(answer).toContain('/through-tunnel');
    expect(await proxy.refusedTotal.get()).toMatchObject({ values: [] });
  });

  it('refuses a host off the allowlist: 403, a log line with group, session and host, a count', async () => {
    make({ groupAllow: { other: [`127.0.0.1:${allowed.port}`] } });
    const run = await open('team', 'ses_x');
    const abs = await call(run.socketPath, { method: 'GET', path: `${allowed.url}/` });
    expect(abs.status).toBe(403);
    expect(JSON.parse(abs.body).error.message).toContain('not on the allowlist of group "team"');
    const t = await tunnel(run.socketPath, 'example.com:443');
    expect(t.status).toBe(403);
    expect(t.body).toContain('egress.groups.team');
    expect(allowed.requests).toHaveLength(0);
    const refusals = logs.filter((l) => l.msg === 'egress refused');
    expect(refusals).toHaveLength(2);
    expect(refusals[1]).toMatchObject({ group: 'team', session: 'ses_x', host: 'example.com:443' });
    const metric = await proxy.refusedTotal.get();
    expect(metric.values).toEqual([{ value: 2, labels: { group: 'team' } }]);
  });

  it('refuses loopback unless an entry names it: wildcards and rebinding names do not count', async () => {
    const lookup: LookupFn = async (host) => ({
      address: host === 'rebind.test' || host === 'localhost' ? '127.0.0.1' : '192.0.2.1',
    });
    make({ allow: ['*:*', 'rebind.test:*', `localhost:${allowed.port}`], lookup });
    const run = await open();
    for (const host of [`127.0.0.1:${allowed.port}`, `rebind.test:${allowed.port}`, '[::1]:80']) {
      const t = await tunnel(run.socketPath, host);
      expect(t.status, host).toBe(403);
      expect(t.body).toContain('internal address');
    }
    const ok = await call(run.socketPath, {
      method: 'GET',
      path: `http://localhost:${allowed.port}/local`,
    });
    expect(ok.status).toBe(200);
  });

  it('checks proxy credentials when a client sends them', async () => {
    make({ allow: [`127.0.0.1:${allowed.port}`] });
    const run = await open();
    const basic = (pw: string) => `Basic ${Buffer.from(`clawpod:${pw}`).toString('base64')}`;
    const bad = await tunnel(run.socketPath, `127.0.0.1:${allowed.port}`, {
      'proxy-authorization': basic('nope'),
    });
    expect(bad.status).toBe(407);
    const good = await tunnel(run.socketPath, `127.0.0.1:${allowed.port}`, {
      'proxy-authorization': basic(run.placeholder),
    });
    expect(good.status).toBe(200);
    good.socket!.destroy();
  });

  it('routes custom upstreams, keyless or with their own key variable', async () => {
    make({
      env: { OLLAMA_KEY: 'ollama-secret' },
      upstreams: {
        local: { baseUrl: `${allowed.url}/v1` },
        keyed: { baseUrl: allowed.url, apiKeyEnv: 'OLLAMA_KEY' },
      },
    });
    const run = await open();
    const auth = { authorization: `Bearer ${run.placeholder}` };
    await call(run.socketPath, { path: '/upstream/local/responses', headers: auth });
    // A keyless upstream needs no placeholder either.
    await call(run.socketPath, { path: '/upstream/local/models' });
    await call(run.socketPath, { path: '/upstream/keyed/v1/chat', headers: auth });
    const noKey = await call(run.socketPath, { path: '/upstream/keyed/v1/chat' });
    expect(noKey.status).toBe(403);
    expect(allowed.requests.map((r) => r.path)).toEqual([
      '/v1/responses',
      '/v1/models',
      '/v1/chat',
    ]);
    expect(allowed.requests[0]!.headers.authorization).toBeUndefined();
    expect(allowed.requests[2]!.headers.authorization).toBe('Bearer ollama-secret');
  });

  it('answers 404 outside the routes, 400 for dot segments, and removes the socket on close', async () => {
    make();
    const run = await open();
    const headers = { 'x-api-key': run.placeholder };
    for (const path of ['/openai/v1/../../admin', '/anthropic/v1/%2E%2E/x']) {
      expect((await call(run.socketPath, { path, headers })).status, path).toBe(400);
    }
    expect(upstream.requests).toHaveLength(0);
    const r = await call(run.socketPath, { method: 'GET', path: '/elsewhere' });
    expect(r.status).toBe(404);
    expect(r.body).toContain('/anthropic');
    await run.close();
    expect(existsSync(run.socketPath)).toBe(false);
  });

  it('refuses paths that leave the route (backslashes, encoded dots) before any upstream call', async () => {
    make({
      env: { OLLAMA_KEY: 'ollama-secret-key' },
      upstreams: { keyed: { baseUrl: `${allowed.url}/v1`, apiKeyEnv: 'OLLAMA_KEY' } },
    });
    const run = await open();
    const bridge = await startEgressBridge(run.socketPath);
    try {
      const attacks = [
        '/anthropic/v1\\..\\..\\ESCAPED',
        '/anthropic/v1/..\\ESCAPED',
        '/anthropic/v1/%2e%2e/%2E%2E/ESCAPED',
        '/anthropic/v1/.%2e/ESCAPED',
        '/anthropic/v1/%5c..%5c..%5cESCAPED',
        '/openai/v1/x\\..\\..\\..\\ESCAPED',
        '/openai/v1/%2e%2e/ESCAPED?beta=1',
        '/upstream/keyed/x\\..\\..\\ESCAPED',
        '/upstream/keyed/%2e%2e/%2e%2e/ESCAPED',
      ];
      for (const path of attacks) {
        const r = await callTcp(bridge.port, {
          path,
          headers: { 'x-api-key': run.placeholder, authorization: `Bearer ${run.placeholder}` },
        });
        expect(r.status, path).toBe(400);
        expect(JSON.parse(r.body).error.message, path).toMatch(/path/);
      }
      // Neither upstream saw the escaped path, or any request carrying a key.
      expect(upstream.requests).toEqual([]);
      expect(allowed.requests).toEqual([]);
      // Ordinary paths still go through, under the base path.
      const ok = await callTcp(bridge.port, {
        path: '/openai/v1/responses?x=a\\b',
        headers: { authorization: `Bearer ${run.placeholder}` },
      });
      expect(ok.status).toBe(200);
      expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/responses?x=a\\b']);
    } finally {
      await bridge.close();
    }
  });

  it('masks the injected credential in the answer: body, headers, gzip, every route', async () => {
    const reflecting = await startEchoUpstream({ reflectHeaders: ['x-api-key', 'authorization'] });
    const zipped = await startEchoUpstream({ gzip: true });
    try {
      make({
        env: { ANTHROPIC_BASE_URL: reflecting.url, OLLAMA_KEY: 'ollama-secret-key-42' },
        upstreams: {
          zipped: { baseUrl: zipped.url, apiKeyEnv: 'OLLAMA_KEY', header: 'x-api-key' },
        },
      });
      const run = await open();
      const a = await call(run.socketPath, {
        path: '/anthropic/v1/messages',
        headers: { 'x-api-key': run.placeholder },
        body: '{}',
      });
      expect(a.status).toBe(200);
      expect(reflecting.requests[0]!.headers['x-api-key']).toBe(REAL_KEY); // it did get the key
      expect(JSON.stringify(a.headers) + a.body).not.toContain(REAL_KEY);
      expect(JSON.parse(a.body).headers['x-api-key']).toBe(SECRET_MASK);
      expect(a.headers['x-reflected-x-api-key']).toBe(SECRET_MASK);

      const o = await call(run.socketPath, {
        path: '/openai/v1/responses',
        headers: { authorization: `Bearer ${run.placeholder}` },
      });
      expect(o.body).not.toContain(REAL_OPENAI);
      expect(JSON.parse(o.body).headers.authorization).toBe(`Bearer ${SECRET_MASK}`);

      const z = await call(run.socketPath, {
        path: '/upstream/zipped/v1/chat',
        headers: { 'x-api-key': run.placeholder },
      });
      expect(zipped.requests[0]!.headers['accept-encoding']).toBe('identity');
      expect(z.headers['content-encoding']).toBeUndefined();
      expect(z.body).not.toContain('ollama-secret-key-42');
      expect(JSON.parse(z.body).headers['x-api-key']).toBe(SECRET_MASK);
      expect(JSON.stringify(logs)).not.toContain(REAL_KEY);
    } finally {
      await reflecting.close();
      await zipped.close();
    }
  });

  it('refuses every internal range under * and *:*, by address and by a name resolving to it', async () => {
    const internal = [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.1',
      '100.64.0.1',
      '100.100.100.200',
      '169.254.169.254',
      'fd00:ec2::254',
      'fc00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
    ];
    const lookup: LookupFn = async (host) => {
      const m = /^h(\d+)\.rebind\.test$/.exec(host);
      return { address: m ? internal[Number(m[1])]! : '192.0.2.1' };
    };
    make({ allow: ['*', '*:*'], lookup });
    const run = await open('team', 'run_int');
    const literal = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
    for (const [i, ip] of internal.entries()) {
      for (const target of [`${literal(ip)}:443`, `${literal(ip)}:80`, `h${i}.rebind.test:443`]) {
        const t = await tunnel(run.socketPath, target);
        expect(t.status, target).toBe(403);
        expect(t.body, target).toContain('internal address');
      }
      const abs = await call(run.socketPath, { method: 'GET', path: `http://${literal(ip)}/x` });
      expect(abs.status, ip).toBe(403);
    }
    const metric = await proxy.refusedTotal.get();
    expect(metric.values).toEqual([{ value: internal.length * 4, labels: { group: 'team' } }]);
  });

  it('ends open tunnels when the run closes', async () => {
    const echo: Server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    try {
      make({ allow: [`127.0.0.1:${port}`] });
      const run = await open();
      const t = await tunnel(run.socketPath, `127.0.0.1:${port}`);
      const closed = new Promise<void>((r) => t.socket!.on('close', () => r()));
      await run.close();
      await closed;
    } finally {
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });
});
