import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Store } from '../../src/store/store.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, runCli } from '../support/cli-helpers.js';

// `clawpod setup --yes`: the wizard's steps from flags, for scripts and CI (no terminal).

const tmp = useTempDirs();
let telegram: FakeTelegram;
beforeAll(async () => {
  telegram = await startFakeTelegram();
});
afterAll(async () => {
  await telegram.close();
});

const setupArgs = (extra: string[] = []) => [
  'setup',
  '--yes',
  '--name',
  'Bob',
  '--timezone',
  'Europe/Berlin',
  '--anthropic-key-env',
  'MY_ANTHROPIC_KEY',
  '--telegram-token-env',
  'MY_TG_TOKEN',
  '--telegram-api-root',
  telegram.apiRoot,
  '--telegram-owner',
  '4242',
  '--check-timeout',
  '10',
  ...extra,
];

describe('clawpod setup --yes', () => {
  it('writes config, a 0600 .env and the owner binding from flags, checking Telegram live', async () => {
    const home = tmp();
    const r = await runCli(
      setupArgs(),
      cliEnv(home, { MY_ANTHROPIC_KEY: 'sk-ant-from-env', MY_TG_TOKEN: telegram.token }),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ telegram: getMe answered: bot @clawpod_test_bot');
    expect(r.stdout).toContain('tg:4242 bound to main');
    expect(r.stdout).toContain('claude credentials: ANTHROPIC_API_KEY is set'); // doctor ran
    expect(r.stdout).not.toContain(telegram.token);
    expect(statSync(join(home, '.env')).mode & 0o777).toBe(0o600);
    const env = readFileSync(join(home, '.env'), 'utf8');
    expect(env).toContain('ANTHROPIC_API_KEY=sk-ant-from-env');
    expect(env).toContain(`TELEGRAM_BOT_TOKEN=${telegram.token}`);
    const config = loadConfig({ CLAWPOD_HOME: home });
    expect(config.file.assistant.name).toBe('Bob');
    expect(config.file.owner.ids).toEqual(['tg:4242']);
    expect(config.file.channels.telegram).toMatchObject({
      token: 'env:TELEGRAM_BOT_TOKEN',
      apiRoot: telegram.apiRoot,
    });
    const store = Store.open(join(home, 'clawpod.db'));
    expect(store.groups.main()?.chats).toEqual(['web:main', 'tg:4242']);
    store.close();
  });

  it("stops at a wrong token with Telegram's reason and writes nothing", async () => {
    const home = tmp();
    const r = await runCli(
      setupArgs(),
      cliEnv(home, {
        MY_ANTHROPIC_KEY: 'sk-ant-x',
        MY_TG_TOKEN: '123:wrong-token-abcdefghijklmnop',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('live check failed; nothing was written');
    expect(r.stderr).toContain('telegram: getMe failed: 401 Unauthorized');
    expect(r.stderr).toContain('@BotFather');
    expect(existsSync(join(home, 'config.yaml'))).toBe(false);
    expect(existsSync(join(home, '.env'))).toBe(false);
  });

  it('names a missing variable, and tells a script without a terminal to use --yes', async () => {
    const home = tmp();
    const missing = await runCli(setupArgs(), cliEnv(home, { MY_TG_TOKEN: telegram.token }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      '--anthropic-key-env MY_ANTHROPIC_KEY: that variable is not set',
    );
    const noTty = await runCli(['setup'], cliEnv(home));
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('clawpod setup --yes');
  });
});
