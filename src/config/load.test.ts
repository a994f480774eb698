import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/tmp.js';
import { ConfigError } from './errors.js';
import { dataPaths, loadConfig, resolveSecret } from './load.js';

const tempDir = useTempDirs('clawpod-config-');

/** A fresh data dir holding the given config.yaml (and .env) text. */
function home(files: { config?: string; env?: string } = {}): string {
  const dir = tempDir();
  if (files.config !== undefined) writeFileSync(join(dir, 'config.yaml'), files.config);
  if (files.env !== undefined) writeFileSync(join(dir, '.env'), files.env);
  return dir;
}

/** Loads and returns the ConfigError thrown (fails the test otherwise). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, the config loaded');
}

describe('loadConfig', () => {
  it('uses the defaults when there is no config file', () => {
    const dir = home();
    const cfg = loadConfig({ CLAWPOD_HOME: dir });
    expect(cfg.paths).toEqual(dataPaths(dir));
    expect(cfg.paths.db).toBe(join(dir, 'clawpod.db'));
    expect(cfg.file.assistant.name).toBe('Andy');
    expect(cfg.file.http).toEqual({
      host: '127.0.0.1',
      port: 7420,
      allowNonLoopback: false,
      allowedHosts: [],
    });
    expect(cfg.file.limits.maxConcurrentRuns).toBe(5);
    expect(cfg.file.retry).toEqual({ baseDelayMs: 5000, maxAttempts: 5 });
    expect(cfg.file.router.maxPromptMessages).toBe(50);
    expect(cfg.file.runtime).toBe('auto');
    expect(cfg.file.channels).toEqual({});
    expect(cfg.timezone).toBeTruthy();
  });

  it('uses the defaults for an empty config file', () => {
    const cfg = loadConfig({ CLAWPOD_HOME: home({ config: '# nothing here\n' }) });
    expect(cfg.file.assistant.name).toBe('Andy');
    expect(cfg.file.http.port).toBe(7420);
  });

  it('reads the values given and keeps defaults for the rest', () => {
    const dir = home({
      config: [
        'assistant: { name: Mia }',
        'timezone: Europe/Berlin',
        'http: { port: 8080 }',
        'limits: { maxConcurrentRuns: 2 }',
        'channels:',
        '  telegram: { token: env:TELEGRAM_BOT_TOKEN }',
        '',
      ].join('\n'),
    });
    const cfg = loadConfig({ CLAWPOD_HOME: dir });
    expect(cfg.file.assistant.name).toBe('Mia');
    expect(cfg.timezone).toBe('Europe/Berlin');
    expect(cfg.file.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      allowNonLoopback: false,
      allowedHosts: [],
    });
    expect(cfg.file.limits).toMatchObject({ maxConcurrentRuns: 2, memoryMb: 1024 });
    expect(cfg.file.channels.telegram).toEqual({ token: 'env:TELEGRAM_BOT_TOKEN', apiRoot: null });
  });

  it('refuses an unknown key, naming the file and the key', () => {
    const dir = home({ config: 'assistant: { name: Andy }\nassistent: { name: Typo }\n' });
    const err = configError({ CLAWPOD_HOME: dir });
    expect(err.file).toBe(join(dir, 'config.yaml'));
    expect(err.key).toBe('assistent');
    expect(err.message).toContain(join(dir, 'config.yaml'));
    expect(err.message).toContain('assistent');
    expect(err.message).toMatch(/unknown key/);
  });

  it('names a nested unknown key with its path', () => {
    const err = configError({ CLAWPOD_HOME: home({ config: 'http:\n  prot: 80\n' }) });
    expect(err.key).toBe('http.prot');
    expect(err.message).toContain('http.prot');
  });

  it('channel blocks (each from its channel): unknown names and bad keys name file, key, form', () => {
    const dir = home({ config: 'channels:\n  telegramm: { token: env:T }\n' });
    const unknown = configError({ CLAWPOD_HOME: dir });
    expect(unknown.file).toBe(join(dir, 'config.yaml'));
    expect(unknown.key).toBe('channels.telegramm');
    expect(unknown.expected).toMatch(/unknown key/);
    const badKey = configError({
      CLAWPOD_HOME: home({
        config: 'channels:\n  discord: { token: env:D, reconnectDelayMs: 1 }\n',
      }),
    });
    expect(badKey.key).toBe('channels.discord.reconnectDelayMs');
    expect(badKey.expected).toMatch(/>=10/);
    const typo = configError({
      CLAWPOD_HOME: home({ config: 'channels:\n  whatsapp: { enabled: true, selfchat: true }\n' }),
    });
    expect(typo.key).toBe('channels.whatsapp.selfchat');
  });

  it('an older config with the per-channel webhook ports still loads (those keys are ignored now)', () => {
    const cfg = loadConfig({
      CLAWPOD_HOME: home({
        config:
          'channels:\n' +
          '  telegram:\n    token: env:T\n    mode: webhook\n' +
          '    webhook: { url: "https://bot.example.com/telegram", host: 127.0.0.1, port: 8443, path: /telegram }\n' +
          '  slack: { botToken: env:S, signingSecret: env:X, mode: http, port: 3000 }\n',
      }),
    });
    expect(cfg.file.channels.telegram?.webhook).toMatchObject({ port: 8443, path: '/telegram' });
    expect(cfg.file.channels.slack).toMatchObject({ mode: 'http', port: 3000 });
  });

  it('refuses a wrong type, naming the key and the expected form', () => {
    const dir = home({ config: 'http: { port: "x" }\n' });
    const err = configError({ CLAWPOD_HOME: dir });
    expect(err.key).toBe('http.port');
    expect(err.expected).toMatch(/expected number/);
    expect(err.message).toContain(join(dir, 'config.yaml'));
    expect(err.message).toContain('http.port');
  });

  it('reads http.allowedHosts and refuses an entry that is not a host, naming it', () => {
    const ok = loadConfig({
      CLAWPOD_HOME: home({
        config: 'http: { allowedHosts: [Clawpod.Example.com, "10.0.0.2:7420"] }\n',
      }),
    });
    expect(ok.file.http.allowedHosts).toEqual(['clawpod.example.com', '10.0.0.2:7420']);
    const err = configError({
      CLAWPOD_HOME: home({ config: 'http: { allowedHosts: ["https://evil.example/"] }\n' }),
    });
    expect(err.key).toBe('http.allowedHosts.0');
    expect(err.expected).toContain('a host name or address');
  });

  it('refuses an out-of-range value', () => {
    const err = configError({
      CLAWPOD_HOME: home({ config: 'limits: { maxConcurrentRuns: 0 }\n' }),
    });
    expect(err.key).toBe('limits.maxConcurrentRuns');
  });

  it('refuses a bad sandbox id range, naming the key and the expected form', () => {
    const fractional = configError({
      CLAWPOD_HOME: home({ config: 'sandbox: { uidBase: 70000.5 }\n' }),
    });
    expect(fractional.key).toBe('sandbox.uidBase');
    expect(fractional.expected).toMatch(/an integer \(the first id of the sandbox id range/);
    const low = configError({ CLAWPOD_HOME: home({ config: 'sandbox: { uidBase: 500 }\n' }) });
    expect(low.message).toMatch(/sandbox\.uidBase: at least 1000: system accounts live below/);
    const count = configError({ CLAWPOD_HOME: home({ config: 'sandbox: { uidCount: 1 }\n' }) });
    expect(count.key).toBe('sandbox.uidCount');
    expect(count.expected).toMatch(/at least 2/);
  });

  it('still accepts the deprecated sandbox.uid and sandbox.gid (warned about at start)', () => {
    const cfg = loadConfig({
      CLAWPOD_HOME: home({ config: 'sandbox: { uid: 1000, gid: 1000 }\n' }),
    });
    expect(cfg.file.sandbox).toMatchObject({
      uid: 1000,
      gid: 1000,
      uidBase: 70_000,
      uidCount: 10_000,
    });
  });

  it('refuses invalid YAML, naming the line', () => {
    const dir = home({ config: 'assistant:\n  name: Andy\nhttp: { port: 7420\nruntime: auto\n' });
    const err = configError({ CLAWPOD_HOME: dir });
    expect(err.file).toBe(join(dir, 'config.yaml'));
    expect(err.key).toMatch(/^line \d+$/);
    // The broken flow mapping opens on line 3; the parser reports at or after it.
    expect(Number(err.key.slice('line '.length))).toBeGreaterThanOrEqual(3);
    expect(err.message).toMatch(/valid YAML/);
  });

  it('names the exact line of a single-line YAML error', () => {
    const dup = configError({
      CLAWPOD_HOME: home({ config: 'runtime: auto\nhttp: { port: 1 }\nruntime: docker\n' }),
    });
    expect(dup.key).toBe('line 3');
    expect(dup.expected).toContain('DUPLICATE_KEY');
    const stray = configError({
      CLAWPOD_HOME: home({ config: 'runtime: auto\nhttp: { port: 7420 }}\n' }),
    });
    expect(stray.key).toBe('line 2');
  });

  it('refuses a secret given as a plain string, expecting env:NAME', () => {
    const err = configError({
      CLAWPOD_HOME: home({ config: 'channels:\n  telegram: { token: abc }\n' }),
    });
    expect(err.key).toBe('channels.telegram.token');
    expect(err.expected).toContain('env:NAME');
    expect(err.message).not.toMatch(/\babc\b/);

    const slack = configError({
      CLAWPOD_HOME: home({
        config: 'channels:\n  slack: { botToken: env:SLACK_BOT_TOKEN, appToken: xapp-123 }\n',
      }),
    });
    expect(slack.key).toBe('channels.slack.appToken');
    expect(slack.expected).toContain('env:NAME');
  });

  it('refuses a channels.email.tls.ca that is not a file path, naming the key', () => {
    const email = (tls: string) =>
      configError({
        CLAWPOD_HOME: home({
          config:
            'channels:\n  email:\n    imap: { host: h, user: u }\n    smtp: { host: h }\n' +
            `    from: a@b.c\n    tls: ${tls}\n`,
        }),
      });
    const wrongType = email('{ ca: 5 }');
    expect(wrongType.key).toBe('channels.email.tls.ca');
    expect(wrongType.expected).toContain('a path to a PEM file');
    const pem = email('{ ca: "-----BEGIN CERTIFICATE----- MIIB" }');
    expect(pem.key).toBe('channels.email.tls.ca');
    expect(pem.expected).toContain('not the certificate text itself');
    expect(email('{ cafile: x }').key).toMatch(/^channels\.email\.tls/);
  });

  describe('.env', () => {
    it('reads the data dir .env, and the process env wins over it', () => {
      const dir = home({
        env: [
          '# secrets',
          'TELEGRAM_BOT_TOKEN=from-file',
          'export ONLY_IN_FILE="quoted value"',
          "SINGLE='a # not a comment'",
          'TRAILING=value # a comment',
          '',
        ].join('\n'),
      });
      const cfg = loadConfig({ CLAWPOD_HOME: dir, TELEGRAM_BOT_TOKEN: 'from-process' });
      expect(cfg.env.TELEGRAM_BOT_TOKEN).toBe('from-process');
      expect(cfg.env.ONLY_IN_FILE).toBe('quoted value');
      expect(cfg.env.SINGLE).toBe('a # not a comment');
      expect(cfg.env.TRAILING).toBe('value');
      expect(cfg.env.CLAWPOD_HOME).toBe(dir);
    });

    it('skips process variables that are undefined', () => {
      const dir = home({ env: 'KEEP=file\n' });
      const cfg = loadConfig({ CLAWPOD_HOME: dir, KEEP: undefined });
      expect(cfg.env.KEEP).toBe('file');
    });

    it('refuses a malformed line, naming the file and the line', () => {
      const dir = home({ env: 'GOOD=1\nthis is not an assignment\n' });
      const err = configError({ CLAWPOD_HOME: dir });
      expect(err.file).toBe(join(dir, '.env'));
      expect(err.key).toBe('line 2');
    });
  });

  describe('timezone', () => {
    it('refuses an unknown zone in config.yaml', () => {
      const dir = home({ config: 'timezone: Mars/Olympus_Mons\n' });
      const err = configError({ CLAWPOD_HOME: dir });
      expect(err.file).toBe(join(dir, 'config.yaml'));
      expect(err.key).toBe('timezone');
      expect(err.expected).toMatch(/IANA/);
    });

    it('refuses an unknown zone in TZ', () => {
      const err = configError({ CLAWPOD_HOME: home(), TZ: 'Nowhere/Land' });
      expect(err.key).toBe('TZ');
    });

    it('takes TZ when the file names no zone, and the file over TZ', () => {
      expect(loadConfig({ CLAWPOD_HOME: home(), TZ: 'Asia/Tokyo' }).timezone).toBe('Asia/Tokyo');
      expect(loadConfig({ CLAWPOD_HOME: home({ env: 'TZ=America/Chicago\n' }) }).timezone).toBe(
        'America/Chicago',
      );
      expect(
        loadConfig({
          CLAWPOD_HOME: home({ config: 'timezone: Europe/Berlin\n' }),
          TZ: 'Asia/Tokyo',
        }).timezone,
      ).toBe('Europe/Berlin');
    });
  });
});

describe('resolveSecret', () => {
  const env = { TELEGRAM_BOT_TOKEN: '123:abc', EMPTY: '' };

  it('reads the named variable', () => {
    expect(resolveSecret('env:TELEGRAM_BOT_TOKEN', env)).toBe('123:abc');
  });

  it('is undefined when unset, empty or not given', () => {
    expect(resolveSecret('env:MISSING', env)).toBeUndefined();
    expect(resolveSecret('env:EMPTY', env)).toBeUndefined();
    expect(resolveSecret(undefined, env)).toBeUndefined();
  });

  it('resolves a secret named in config.yaml from .env', () => {
    const dir = home({
      config: 'channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN }\n',
      env: 'TELEGRAM_BOT_TOKEN=from-dotenv\n',
    });
    const cfg = loadConfig({ CLAWPOD_HOME: dir });
    expect(resolveSecret(cfg.file.channels.telegram?.token, cfg.env)).toBe('from-dotenv');
  });
});
