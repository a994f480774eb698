import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bridgeEnv, egressEnv, startEgressBridge } from './egress-bridge.js';

describe('egress bridge', () => {
  it('pipes each TCP connection to the unix socket, both ways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clawpod-bridge-'));
    const sock = join(dir, 'p.sock');
    const server = createServer((c) => c.on('data', (d) => c.end(`echo:${String(d)}`)));
    await new Promise<void>((r) => server.listen(sock, r));
    const bridge = await startEgressBridge(sock);
    try {
      const got = await new Promise<string>((resolve, reject) => {
        let text = '';
        const c = connect(bridge.port, '127.0.0.1', () => c.write('hi'));
        c.on('data', (d: Buffer) => (text += d.toString('utf8')));
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
      expect(got).toBe('echo:hi');
    } finally {
      await bridge.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the client when the socket is not there', async () => {
    const bridge = await startEgressBridge('/nonexistent/clawpod.sock');
    try {
      await new Promise<void>((resolve) => {
        const c = connect(bridge.port, '127.0.0.1');
        c.on('close', () => resolve());
        c.on('error', () => undefined);
      });
    } finally {
      await bridge.close();
    }
  });

  it('exports base URLs, the placeholder in the variable of the host credential kind, proxies', () => {
    const env = bridgeEnv(4321, {
      socket: '/s',
      placeholder: 'p'.repeat(20),
      anthropicAuth: 'oauth',
    });
    expect(env).toMatchObject({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4321/anthropic',
      CLAUDE_CODE_OAUTH_TOKEN: 'p'.repeat(20),
      OPENAI_BASE_URL: 'http://127.0.0.1:4321/openai/v1',
      OPENAI_API_KEY: 'p'.repeat(20),
      HTTPS_PROXY: 'http://127.0.0.1:4321',
      http_proxy: 'http://127.0.0.1:4321',
      NO_PROXY: '127.0.0.1,localhost',
    });
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    const key = bridgeEnv(1, {
      socket: '/s',
      placeholder: 'q'.repeat(20),
      anthropicAuth: 'api-key',
    });
    expect(key.ANTHROPIC_API_KEY).toBe('q'.repeat(20));
  });

  it('leaves the environment alone without a proxy', async () => {
    expect(await egressEnv(null, { A: '1' })).toEqual({ A: '1' });
  });
});
