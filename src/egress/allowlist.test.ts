import { describe, expect, it } from 'vitest';
import { Allowlist, isInternalAddress, parseAuthority, parseHostRule } from './allowlist.js';
import { EgressConfigError } from './errors.js';

describe('egress allowlist', () => {
  it('parses hosts, ports, wildcards and IPv6 literals', () => {
    expect(parseHostRule('Example.COM.')).toMatchObject({ host: 'example.com', port: null });
    expect(parseHostRule('example.com:8443')).toMatchObject({ port: 8443 });
    expect(parseHostRule('*.example.com:*')).toMatchObject({ host: '*.example.com', port: '*' });
    expect(parseHostRule('[::1]:8080')).toMatchObject({ host: '::1', port: 8080, internal: true });
    expect(parseHostRule('localhost:3000')).toMatchObject({ internal: true });
    expect(parseHostRule('127.0.0.1')).toMatchObject({ internal: true });
    expect(parseHostRule('10.0.0.5:22')).toMatchObject({ internal: true });
    expect(parseHostRule('[fd00:ec2::254]')).toMatchObject({ internal: true });
    expect(parseHostRule('nas.lan:5000')).toMatchObject({ internal: false });
  });

  it('refuses malformed entries with a message saying what a pattern is', () => {
    for (const bad of ['http://example.com', 'exa mple.com', 'host:99999', 'a/b', '']) {
      expect(() => parseHostRule(bad), bad).toThrow(EgressConfigError);
    }
    expect(() => parseHostRule('a/b')).toThrow(/host pattern/);
  });

  it('matches ports 80/443 by default, exact ports, any port, subdomains only for *.', () => {
    const list = new Allowlist(['example.com', 'api.test:8443', '*.cdn.test', 'any.test:*']);
    const ok = (host: string, port: number) => list.matches({ host, port }).length > 0;
    expect(ok('example.com', 443)).toBe(true);
    expect(ok('EXAMPLE.com', 80)).toBe(true);
    expect(ok('example.com', 22)).toBe(false);
    expect(ok('sub.example.com', 443)).toBe(false);
    expect(ok('api.test', 8443)).toBe(true);
    expect(ok('api.test', 443)).toBe(false);
    expect(ok('a.b.cdn.test', 443)).toBe(true);
    expect(ok('cdn.test', 443)).toBe(false);
    expect(ok('evilcdn.test', 443)).toBe(false);
    expect(ok('any.test', 5432)).toBe(true);
  });

  it('knows internal addresses: loopback, private, CGNAT, ULA, link-local, mapped and NAT64', () => {
    for (const ip of [
      '127.0.0.1',
      '127.8.9.1',
      '0.0.0.0',
      '169.254.169.254',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.1',
      '100.100.100.200',
      '100.127.255.255',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'fd00:ec2::254',
      '[FD00:EC2::254]',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::10.0.0.1',
    ]) {
      expect(isInternalAddress(ip), ip).toBe(true);
    }
    for (const ip of [
      '192.0.2.1',
      '172.32.0.1',
      '100.128.0.1',
      '8.8.8.8',
      '2001:db8::1',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      'localhost',
    ]) {
      expect(isInternalAddress(ip), ip).toBe(false);
    }
  });

  it('splits authorities', () => {
    expect(parseAuthority('example.com:443')).toEqual({ host: 'example.com', port: 443 });
    expect(parseAuthority('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseAuthority('example.com', 80)).toEqual({ host: 'example.com', port: 80 });
    expect(parseAuthority('example.com:0')).toBeUndefined();
    expect(parseAuthority('a b:1')).toBeUndefined();
  });
});
