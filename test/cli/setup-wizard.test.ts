import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDoctor, runDoctor } from '../../src/cli/commands/doctor.js';
import { ConfigDoc } from '../../src/cli/setup/config-doc.js';
import { runWizard } from '../../src/cli/setup/wizard.js';
import { loadConfig } from '../../src/config/load.js';
import { Store } from '../../src/store/store.js';
import {
  startFakeImap,
  startFakeSmtp,
  type FakeImap,
  type FakeSmtp,
} from '../fakes/mail-servers.js';
import { FakeSlack } from '../fakes/slack-server.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { nextMessage, startDaemon } from '../support/daemon-harness.js';
import { KEY, PromptDriver } from '../support/prompt-driver.js';
import { reply, scriptedLauncher } from '../support/scripted-launcher.js';
import { useTempDirs } from '../support/tmp.js';

// `clawpod setup` driven through @clack/prompts' own input/output streams, against the fake
// Telegram and Slack servers and in-process IMAP/SMTP servers (real wire protocols).

const tmp = useTempDirs();
let telegram: FakeTelegram;
let slack: FakeSlack;
let imap: FakeImap;
let smtp: FakeSmtp;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  slack = await FakeSlack.start();
  slack.users.set('U0OWNER1', 'Owner');
  imap = await startFakeImap();
  smtp = await startFakeSmtp({ auth: { user: 'testuser', pass: 'testpass' } });
});
afterAll(async () => {
  await telegram.close();
  await slack.close();
  await imap.close();
  await smtp.close();
});

function wizard(home: string, d: PromptDriver, installs: string[] = []) {
  return runWizard({
    io: { input: d.input, output: d.output },
    env: { CLAWPOD_HOME: home, HOME: home, TZ: 'Europe/Berlin', PATH: process.env.PATH },
    endpoints: { telegramApiRoot: telegram.apiRoot, slackApiUrl: slack.apiUrl },
    checkTimeoutMs: 10_000,
    deps: {
      doctor: (env) => runDoctor(env, { channelTimeoutMs: 10_000 }),
      renderDoctor,
      installService: () => {
        installs.push('installed');
        return ['wrote the unit'];
      },
    },
  });
}

const mainChats = (home: string) => {
  const store = Store.open(join(home, 'clawpod.db'));
  try {
    return store.groups.main()?.chats ?? [];
  } finally {
    store.close();
  }
};

describe('clawpod setup (interactive)', () => {
  it('takes a fresh home to a working Telegram config: 0600 .env, owner id, bound owner chat', async () => {
    const home = tmp();
    const d = new PromptDriver();
    const done = wizard(home, d);
    await d.choose('Which model should the agents use?', 0); // Anthropic API key
    await d.answer('ANTHROPIC_API_KEY:', 'sk-ant-test-key-123');
    await d.answer("The assistant's name", ''); // keeps Andy
    await d.answer('Time zone', ''); // keeps the detected zone
    await d.choose('Add a chat channel?', 0); // Telegram
    await d.waitFor('@BotFather, send /newbot'); // where to get the token
    await d.answer('Bot token from @BotFather', telegram.token);
    await d.waitFor('getMe answered: bot @clawpod_test_bot');
    await d.waitFor('Waiting for your message to @clawpod_test_bot');
    telegram.pushMessage({
      chat: { id: 4242, type: 'private', first_name: 'Olga' },
      from: { id: 4242, is_bot: false, first_name: 'Olga' },
      text: 'hi',
    });
    await d.answer('Message from Olga (tg:4242)', '');
    await d.choose('Add another channel?', 5); // Done
    await d.waitFor('doctor');
    await d.answer('Run clawpod as a service', '');
    expect(await done).toBe(0);
    expect(d.text).toContain('tg:4242 is now bound to main');

    const env = readFileSync(join(home, '.env'), 'utf8');
    expect(statSync(join(home, '.env')).mode & 0o777).toBe(0o600);
    expect(env).toContain(`TELEGRAM_BOT_TOKEN=${telegram.token}`);
    expect(env).toContain('ANTHROPIC_API_KEY=sk-ant-test-key-123');
    const yaml = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(yaml).not.toContain(telegram.token); // secrets only as env:NAME
    const config = loadConfig({ CLAWPOD_HOME: home });
    expect(config.file.assistant.name).toBe('Andy');
    expect(config.timezone).toBe('Europe/Berlin');
    expect(config.file.owner.ids).toEqual(['tg:4242']);
    expect(config.file.channels.telegram).toMatchObject({ token: 'env:TELEGRAM_BOT_TOKEN' });
    expect(mainChats(home)).toContain('tg:4242');

    // Working: a daemon on this data dir answers the owner's next Telegram message in main.
    const doc = ConfigDoc.load(join(home, 'config.yaml'));
    doc.set(['http', 'port'], 0); // the test's only change: a free port
    doc.save();
    const agent = scriptedLauncher(() => reply('hello Olga'));
    const daemon = await startDaemon(home, [agent]);
    try {
      const answered = nextMessage(daemon, (m) => m.direction === 'out' && m.chatId === 'tg:4242');
      telegram.pushMessage({
        chat: { id: 4242, type: 'private', first_name: 'Olga' },
        from: { id: 4242, is_bot: false, first_name: 'Olga' },
        text: 'are you there?',
      });
      expect((await answered).text).toBe('hello Olga');
      // The setup's "hi" was marked read by the wizard: only the new message reached the agent.
      expect(agent.inputs.map((i) => i.prompt).join('\n')).not.toContain('>hi<');
    } finally {
      await daemon.stop();
    }
  });

  it("catches a wrong Slack token live with Slack's reason, and a re-run keeps comments", async () => {
    const home = tmp();
    const original =
      '# my clawpod settings\nassistant: { name: Andy } # the trigger word\nhttp:\n  port: 7999 # not the default\n';
    writeFileSync(join(home, 'config.yaml'), original);
    writeFileSync(join(home, '.env'), '# keys\nANTHROPIC_API_KEY=sk-ant-kept\n', { mode: 0o600 });
    const d = new PromptDriver();
    const installs: string[] = [];
    const done = wizard(home, d, installs);
    await d.choose('Add or replace a model credential?', 0); // keep
    await d.answer("The assistant's name", KEY.backspace.repeat(4) + 'Bob');
    await d.answer('Time zone', '');
    await d.choose('Add a chat channel?', 1); // Slack
    await d.answer('Bot User OAuth Token', 'xoxb-wrong');
    await d.answer('App-level token', slack.appToken);
    await d.waitFor('slack: auth.test failed: invalid_auth');
    await d.choose('Then:', 0); // enter again
    await d.answer('Bot User OAuth Token', slack.botToken);
    await d.answer('App-level token', ''); // Enter keeps the stored one
    await d.waitFor('auth.test answered');
    await d.answer('Your Slack member ID', 'U0OWNER1');
    await d.choose('Add another channel?', 5);
    await d.answer('Run clawpod as a service', 'y');
    expect(await done).toBe(0);
    expect(installs).toEqual(['installed']);

    const yaml = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(yaml).toContain('# my clawpod settings');
    expect(yaml).toContain('# the trigger word');
    expect(yaml).toContain('port: 7999 # not the default');
    const config = loadConfig({ CLAWPOD_HOME: home });
    expect(config.file.assistant.name).toBe('Bob');
    expect(config.file.owner.ids).toEqual(['slack:U0OWNER1']);
    expect(config.file.channels.slack).toMatchObject({
      botToken: 'env:SLACK_BOT_TOKEN',
      appToken: 'env:SLACK_APP_TOKEN',
    });
    const env = readFileSync(join(home, '.env'), 'utf8');
    expect(env).toMatch(/^# keys\nANTHROPIC_API_KEY=sk-ant-kept\n/);
    expect(env).toContain(`SLACK_BOT_TOKEN=${slack.botToken}`);
    expect(env).not.toContain('xoxb-wrong');
    expect(mainChats(home)).toContain('slack:D0OWNER1');

    // A second run: nothing changed, comments and channel still there.
    const again = new PromptDriver();
    const second = wizard(home, again);
    await again.choose('Add or replace a model credential?', 0);
    await again.answer("The assistant's name", '');
    await again.answer('Time zone', '');
    await again.choose('Add a chat channel?', 5);
    await again.answer('Run clawpod as a service', '');
    expect(await second).toBe(0);
    const after = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(after).toContain('# the trigger word');
    expect(after).toContain('slack:U0OWNER1');
  });

  it("checks an email login live over IMAP and SMTP, with the server's reason", async () => {
    const home = tmp();
    const d = new PromptDriver();
    const done = wizard(home, d);
    await d.choose('Which model should the agents use?', 3); // skip
    await d.answer("The assistant's name", '');
    await d.answer('Time zone', '');
    await d.choose('Add a chat channel?', 3); // Email
    await d.answer('IMAP server', `127.0.0.1:${imap.port}`);
    await d.answer('Mailbox user name', 'testuser');
    await d.answer('Mailbox password', 'wrong-password');
    await d.answer('SMTP server', `${KEY.backspace.repeat(20)}127.0.0.1:${smtp.port}`);
    await d.answer("The assistant's address", 'andy@example.com');
    await d.waitFor(
      `email: IMAP 127.0.0.1:${imap.port} login refused: Login failed: authentication failure`,
    );
    await d.waitFor(`email: SMTP 127.0.0.1:${smtp.port}`); // the SMTP server's own refusal too
    expect(d.text).toContain('535');
    expect(d.text).not.toContain('wrong-password');
    await d.choose('Then:', 0);
    await d.answer('IMAP server', '');
    await d.answer('Mailbox user name', '');
    await d.answer('Mailbox password', 'testpass');
    await d.answer('SMTP server', '');
    await d.answer("The assistant's address", '');
    await d.waitFor('login and INBOX ok');
    await d.answer('Your own mail address', 'Me@Example.com');
    await d.choose('Add another channel?', 5);
    await d.answer('Run clawpod as a service', '');
    expect(await done).toBe(0);
    const config = loadConfig({ CLAWPOD_HOME: home });
    expect(config.file.channels.email).toMatchObject({
      imap: { host: '127.0.0.1', port: imap.port, secure: false, user: 'testuser' },
      smtp: { host: '127.0.0.1', port: smtp.port, secure: false, user: 'testuser' },
      from: 'andy@example.com',
    });
    expect(config.file.owner.ids).toEqual(['mail:me@example.com']);
    expect(mainChats(home)).toContain('mail:me@example.com');
    expect(d.text).toContain('No model credential');
    expect(existsSync(join(home, '.env'))).toBe(true);
  });
});
