import { describe, expect, it } from 'vitest';
import { hostChecker, splitHost } from './host-check.js';

const check = (bindHost: string, allowedHosts: string[] = [], port = 7420) =>
  hostChecker({ bindHost, port: () => port, allowedHosts });

describe('Host check', () => {
  it('splits host headers', () => {
    expect(splitHost('LocalHost:7420')).toEqual({ name: 'localhost', port: 7420 });
    expect(splitHost('[::1]:80')).toEqual({ name: '::1', port: 80 });
    expect(splitHost('example.com.')).toEqual({ name: 'example.com', port: undefined });
    expect(splitHost('a b')).toBeUndefined();
    expect(splitHost('user@host')).toBeUndefined();
  });

  it('on loopback: the loopback names at the bound port only', () => {
    const ok = check('127.0.0.1');
    for (const h of ['127.0.0.1:7420', 'localhost:7420', 'LOCALHOST.:7420', '[::1]:7420']) {
      expect(ok(h), h).toBe(true);
    }
    for (const h of [
      undefined,
      '',
      'localhost',
      'localhost:7421',
      'evil.test:7420',
      '10.0.0.1:7420',
    ]) {
      expect(ok(h), String(h)).toBe(false);
    }
    expect(check('127.0.0.1', [], 80)('localhost')).toBe(true); // port 80 may be left out
  });

  it('on another address: that address, not the loopback names', () => {
    const ok = check('192.168.1.5');
    expect(ok('192.168.1.5:7420')).toBe(true);
    expect(ok('localhost:7420')).toBe(false);
    expect(ok('192.168.1.6:7420')).toBe(false);
    expect(check('::1')('[::1]:7420')).toBe(true);
  });

  it('on every address: loopback names and address literals, never other names', () => {
    const ok = check('0.0.0.0');
    for (const h of ['localhost:7420', '10.0.0.7:7420', '[fe80::1]:7420']) {
      expect(ok(h), h).toBe(true);
    }
    expect(ok('nas.lan:7420')).toBe(false);
    expect(ok('10.0.0.7:80')).toBe(false);
  });

  it('configured names: any port, or the port they name', () => {
    const ok = check('127.0.0.1', ['clawpod.example', 'hooks.example:8443']);
    expect(ok('clawpod.example')).toBe(true);
    expect(ok('Clawpod.Example:9999')).toBe(true);
    expect(ok('hooks.example:8443')).toBe(true);
    expect(ok('hooks.example')).toBe(false);
    expect(ok('sub.clawpod.example')).toBe(false);
  });
});
