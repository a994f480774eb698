import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChannels } from '../../src/cli/doctor-channels.js';
import { loadConfig } from '../../src/config/load.js';
import { FakeDiscord } from '../fakes/discord-server.js';
import {
  startFakeImap,
  startFakeSmtp,
  type FakeImap,
  type FakeSmtp,
} from '../fakes/mail-servers.js';
import { FakeSlack } from '../fakes/slack-server.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { useTempDirs } from '../support/tmp.js';
import { cliEnv, closedPort, runCli } from '../support/cli-helpers.js';

// `clawpod doctor` logs in to every configured channel (against the fakes, which speak the real
// wire protocols) and reports the platform's own reason with a fix.

const tmp = useTempDirs();
let telegram: FakeTelegram;
let slack: FakeSlack;
let discord: FakeDiscord;
let imap: FakeImap;
let smtp: FakeSmtp;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  slack = await FakeSlack.start();
  discord = await FakeDiscord.start({
    token: 'discord-token-good',
    bot: { id: '500000000000000001', username: 'andy' },
    guilds: [],
  });
  imap = await startFakeImap();
  smtp = await startFakeSmtp({ auth: { user: 'bot', pass: 'smtp-right' } });
});
afterAll(async () => {
  await telegram.close();
  await slack.close();
  await discord.close();
  await imap.close();
  await smtp.close();
});

const allChannels = () =>
  `channels:\n` +
  `  telegram: { token: env:TG_TOKEN, apiRoot: "${telegram.apiRoot}" }\n` +
  `  slack: { botToken: env:SLACK_BOT, appToken: env:SLACK_APP, apiUrl: "${slack.apiUrl}" }\n` +
  `  discord: { token: env:DISCORD_TOKEN, apiBase: "${discord.apiBase}" }\n` +
  `  whatsapp: { enabled: true }\n` +
  `  email:\n` +
  `    imap: { host: 127.0.0.1, port: ${imap.port}, secure: false, user: testuser, password: env:IMAP_PW }\n` +
  `    smtp: { host: 127.0.0.1, port: ${smtp.port}, secure: false, user: bot, password: env:SMTP_PW }\n` +
  `    from: "Andy <bot@example.com>"\n`;

function configWith(yaml: string, dotenv: string) {
  const home = tmp();
  writeFileSync(join(home, 'config.yaml'), yaml);
  writeFileSync(join(home, '.env'), dotenv, { mode: 0o600 });
  return { home, config: loadConfig({ CLAWPOD_HOME: home }) };
}

const byChannel = (results: Array<{ level: string; title: string; fix?: string }>, name: string) =>
  results.filter((r) => r.title.startsWith(`${name}:`));

describe('doctor: live channel checks', () => {
  it('passes every channel whose login works', async () => {
    const { home, config } = configWith(
      allChannels(),
      `TG_TOKEN=${telegram.token}\nSLACK_BOT=${slack.botToken}\nSLACK_APP=${slack.appToken}\n` +
        `DISCORD_TOKEN=discord-token-good\nIMAP_PW=testpass\nSMTP_PW=smtp-right\n`,
    );
    mkdirSync(join(home, 'channels', 'whatsapp'), { recursive: true });
    writeFileSync(
      join(home, 'channels', 'whatsapp', 'creds.json'),
      JSON.stringify({ me: { id: '15550001111:3@s.whatsapp.net' } }),
    );
    const results = await checkChannels(config, { timeoutMs: 10_000 });
    expect(results.filter((r) => r.level !== 'ok')).toEqual([]);
    expect(results.map((r) => r.title)).toEqual(
      expect.arrayContaining([
        `telegram: getMe answered: bot @${telegram.bot.username}`,
        expect.stringMatching(/^slack: auth.test answered: andy in Fake$/),
        'discord: /users/@me answered: andy',
        'whatsapp: paired as 15550001111',
        `email: IMAP 127.0.0.1:${imap.port} login and INBOX ok`,
        `email: SMTP 127.0.0.1:${smtp.port} login ok`,
      ]),
    );
  });

  it("fails each rejected login with the platform's reason and a fix, never the secret", async () => {
    const { config } = configWith(
      allChannels(),
      'TG_TOKEN=123:wrong-telegram-token\nSLACK_BOT=xoxb-wrong-slack\nSLACK_APP=xapp-x\n' +
        'DISCORD_TOKEN=wrong-discord-token\nIMAP_PW=wrong-imap-pw\nSMTP_PW=wrong-smtp-pw\n',
    );
    const results = await checkChannels(config, { timeoutMs: 10_000 });
    const text = JSON.stringify(results);
    for (const s of [
      'wrong-telegram-token',
      'xoxb-wrong-slack',
      'wrong-discord-token',
      'wrong-imap-pw',
      'wrong-smtp-pw',
    ])
      expect(text).not.toContain(s);
    expect(byChannel(results, 'telegram')).toEqual([
      {
        level: 'fail',
        title: 'telegram: getMe failed: 401 Unauthorized',
        fix: expect.stringContaining('@BotFather'),
      },
    ]);
    expect(byChannel(results, 'slack')[0]).toMatchObject({
      level: 'fail',
      title: 'slack: auth.test failed: invalid_auth',
      fix: expect.stringContaining('xoxb-'),
    });
    expect(byChannel(results, 'discord')[0]).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('401: Unauthorized'),
      fix: expect.stringContaining('Developer Portal'),
    });
    expect(byChannel(results, 'whatsapp')[0]).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('not paired'),
      fix: expect.stringContaining('scan the QR code'),
    });
    const email = byChannel(results, 'email');
    expect(email[0]).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('login refused: Login failed: authentication failure'),
      fix: expect.stringContaining('channels.email.imap.user'),
    });
    expect(email[1]).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('535'),
      fix: expect.stringContaining('channels.email.smtp.user'),
    });
  });

  it('says which server cannot be reached', async () => {
    const port = await closedPort();
    const { config } = configWith(
      `channels:\n  email:\n    imap: { host: 127.0.0.1, port: ${port}, secure: false, user: u, password: env:IMAP_PW }\n` +
        `    smtp: { host: 127.0.0.1, port: ${port}, secure: false }\n    from: bot@example.com\n`,
      'IMAP_PW=x\n',
    );
    const [imapResult, smtpResult] = await checkChannels(config, { timeoutMs: 10_000 });
    expect(imapResult).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('ECONNREFUSED'),
    });
    expect(imapResult!.fix).toContain('channels.email.imap.host');
    expect(smtpResult).toMatchObject({
      level: 'fail',
      title: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('a channel block whose secrets are missing fails with the variable to set', async () => {
    const { config } = configWith(allChannels(), '');
    const results = await checkChannels(config, { timeoutMs: 10_000 });
    for (const name of ['telegram', 'slack', 'discord', 'email']) {
      const [r] = byChannel(results, name);
      expect(r, name).toMatchObject({
        level: 'fail',
        fix: expect.stringMatching(/^add [A-Z_]+=… to /),
      });
    }
  });
});

describe('doctor: keys an older config still has', () => {
  it('the per-channel webhook ports are ignored: a warning says where webhooks go now', async () => {
    const { config } = configWith(
      `channels:\n` +
        `  telegram:\n    token: env:TG_TOKEN\n    apiRoot: "${telegram.apiRoot}"\n    mode: webhook\n` +
        `    webhook: { url: "https://bot.example.com/telegram", port: 8443 }\n` +
        `  slack: { botToken: env:SLACK_BOT, signingSecret: env:SLACK_SIGN, mode: http, port: 3000, apiUrl: "${slack.apiUrl}" }\n`,
      `TG_TOKEN=${telegram.token}\nSLACK_BOT=${slack.botToken}\nSLACK_SIGN=shh\n`,
    );
    const results = await checkChannels(config, { timeoutMs: 10_000 });
    expect(results.filter((r) => r.level === 'fail')).toEqual([]);
    expect(byChannel(results, 'telegram')[1]).toMatchObject({
      level: 'warn',
      title: expect.stringContaining('channels.telegram.webhook.port ignored'),
      fix: expect.stringMatching(/\/channels\/telegram\/webhook.*http\.allowedHosts/),
    });
    expect(byChannel(results, 'slack')[1]).toMatchObject({
      level: 'warn',
      title: expect.stringContaining('channels.slack.port is ignored'),
      fix: expect.stringMatching(/\/channels\/slack\/events.*http\.allowedHosts/),
    });
  });
});

describe('clawpod doctor (the command)', () => {
  it('runs the channel checks: missing email secrets make it exit 1 with the fix', async () => {
    const home = tmp();
    writeFileSync(
      join(home, 'config.yaml'),
      'channels:\n  email:\n    imap: { host: 127.0.0.1, user: u, password: env:EMAIL_IMAP_PASSWORD }\n' +
        '    smtp: { host: 127.0.0.1 }\n    from: bot@example.com\n',
    );
    const nobody = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(
      ['doctor'],
      cliEnv(home, { CLAWPOD_URL: nobody, ANTHROPIC_API_KEY: 'x' }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ email: EMAIL_IMAP_PASSWORD (channels.email.imap.password) is not set',
    );
    expect(r.stdout).toMatch(/fix: add EMAIL_IMAP_PASSWORD=… to .*\.env/);
  });
});
