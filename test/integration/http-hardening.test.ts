/**
 * The HTTP server's own defences, on a real daemon: security headers on every answer, the chat
 * page without inline code, `Host` checks against DNS rebinding, and 500s logged with their
 * cause (on a captured pino stream).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { startDaemon, tempHome } from '../support/daemon-harness.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET `path` on 127.0.0.1:`port` with exactly this `Host` header (fetch would not allow it). */
function getAs(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { ...headers, host } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectSecurityHeaders(res: Answer | Response, what: string) {
  const get = (name: string) =>
    res instanceof Response ? res.headers.get(name) : (res.headers[name] as string | undefined);
  const csp = get('content-security-policy') ?? '';
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("script-src 'self'");
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).not.toContain('unsafe-inline');
  expect(get('x-content-type-options'), what).toBe('nosniff');
  expect(get('x-frame-options'), what).toBe('DENY');
}

describe('HTTP hardening at the default settings', () => {
  let d: Daemon;
  let base: string;
  let token: string;

  beforeAll(async () => {
    const home = tempHome();
    d = await startDaemon(home, [scriptedLauncher(() => reply('pong'))]);
    base = `http://127.0.0.1:${d.port}`;
    token = readFileSync(join(home, 'api-token'), 'utf8').trim();
  });
  afterAll(() => d.stop());

  it('serves the Control UI without inline code, its hashed script and style as files, all with CSP', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expectSecurityHeaders(page, '/');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    // Every script element loads a file of this origin; there is no inline script, style or handler.
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(
      /^<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">$/,
    );
    expect(html).toMatch(/<link rel="stylesheet" crossorigin href="\/assets\/index-[\w-]+\.css">/);
    expect(html).not.toMatch(/<style|\son[a-z]+=|<script>/i);

    const jsPath = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${base}${jsPath}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(js, jsPath);
    const code = await js.text();
    expect(code).toContain('/api/events');
    expect(code).toContain('pairing.qrText');
    expect(code).not.toContain(token);

    const cssPath = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    const css = await fetch(`${base}${cssPath}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expectSecurityHeaders(css, cssPath);
    expect((await fetch(`${base}/assets/nope.js`)).status).toBe(404);
  });

  it('sends the headers with API answers and errors too', async () => {
    expectSecurityHeaders(await fetch(`${base}/api/health`), 'health');
    expectSecurityHeaders(await fetch(`${base}/api/status`), '401');
    expectSecurityHeaders(
      await fetch(`${base}/api/nope`, { headers: { authorization: `Bearer ${token}` } }),
      '404',
    );
  });

  it('answers the loopback names at its port, and 421 with a message to any other Host', async () => {
    const port = d.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const res = await getAs(port, host, '/api/health');
      expect(res.status, host).toBe(200);
    }
    for (const host of [
      `evil.example:${port}`,
      'evil.example',
      `127.0.0.1.nip.io:${port}`,
      `localhost:${port + 1}`,
      `192.168.1.5:${port}`,
    ]) {
      for (const path of ['/', '/assets/x.js', '/api/health', '/api/status']) {
        const res = await getAs(port, host, path, { authorization: `Bearer ${token}` });
        expect(res.status, `${host} ${path}`).toBe(421);
        const body = JSON.parse(res.body) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('misdirected_host');
        expect(body.error.message).toContain('http.allowedHosts');
        expectSecurityHeaders(res, `${host} ${path}`);
      }
    }
  });
});

describe('HTTP hardening with settings', () => {
  it('answers the names listed in http.allowedHosts, with any port or the one given', async () => {
    const home = tempHome();
    writeFileSync(
      join(home, 'config.yaml'),
      'http: { port: 0, allowedHosts: [Clawpod.Example, "hooks.example:8443"] }\n',
    );
    const d = await startDaemon(home, []);
    try {
      const ok = ['clawpod.example', `clawpod.example:${d.port}`, 'hooks.example:8443'];
      for (const host of ok) {
        expect((await getAs(d.port, host, '/api/health')).status, host).toBe(200);
      }
      for (const host of ['hooks.example', 'hooks.example:443', 'evil.example']) {
        expect((await getAs(d.port, host, '/api/health')).status, host).toBe(421);
      }
      // An allowed name is not a credential: the API still wants the token.
      expect((await getAs(d.port, 'clawpod.example', '/api/status')).status).toBe(401);
    } finally {
      await d.stop();
    }
  });

  it('logs an error answered with 500 with its cause, method and path, and no token', async () => {
    const home = tempHome();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const config = loadConfig({ CLAWPOD_HOME: home, PATH: process.env.PATH });
    const d = new Daemon({ config, log: pino({ level: 'info' }, sink) });
    await d.start();
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    // The database changes under the daemon (as a damaged or foreign-edited file would).
    d.store.db.exec('ALTER TABLE runs RENAME TO runs_moved');
    try {
      const res = await fetch(`http://127.0.0.1:${d.port}/api/runs?limit=5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { code: 'internal' } });
      const failed = lines.filter((l) => l.msg === 'HTTP request failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        level: 50,
        part: 'http',
        method: 'GET',
        path: '/api/runs',
        err: { type: 'SqliteError', message: expect.stringContaining('no such table: runs') },
      });
      expect(JSON.stringify(lines)).not.toContain(token);
    } finally {
      d.store.db.exec('ALTER TABLE runs_moved RENAME TO runs');
      await d.stop();
    }
  });
});
